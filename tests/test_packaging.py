"""Packaging: every workspace member builds a wheel, and the wheels alone give a working Bastion.

The fixture builds all wheels (``uv build --all-packages --wheel``), installs them with the locked
third-party dependencies (``uv export --frozen``) into a fresh virtual environment under the test's
temporary directory, and runs the installed ``bastion`` from a working directory outside the checkout,
so nothing is imported from the source tree. Everything runs ``--offline`` from uv's cache, which
``uv sync`` (``./scripts/test``) has already filled; the whole module takes a few seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

IMPORTED_MODULES = (
    "bastion_core",
    "bastion_facades",
    "bastion_policies",
    "bastion_mcp",
    "bastion_agents",
    "bastion_evals",
)
"""The core packages a user imports from an installed Bastion (the issue's smoke test)."""

_FORBIDDEN_PARTS = frozenset({"tests", "test", ".venv", "__pycache__", ".bastion"})
_FORBIDDEN_SUFFIXES = (".gguf", ".pyc", ".pyo", ".sqlite3")
_TIMEOUT_S = 120


@dataclass(frozen=True)
class Member:
    """One workspace member as its ``pyproject.toml`` declares it.

    Attributes:
        name: The distribution name (``bastion-retail``).
        module: The import name (``bastion_retail``).
        source: The package directory in the checkout.
    """

    name: str
    module: str
    source: Path

    @property
    def wheel_prefix(self) -> str:
        """The wheel file name up to the version (``bastion_retail-``)."""
        return self.name.replace("-", "_") + "-"


@dataclass(frozen=True)
class Installed:
    """The built wheels and the fresh environment they were installed into.

    Attributes:
        wheels: Wheel file per distribution name.
        python: The fresh environment's interpreter.
        workdir: An empty working directory outside the checkout.
        env: Environment variables for processes run in the fresh environment.
    """

    wheels: dict[str, Path]
    python: Path
    workdir: Path
    env: dict[str, str]


def _members() -> list[Member]:
    """Read the root project and ``[tool.uv.workspace] members`` from the root ``pyproject.toml``."""
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    directories = [REPO_ROOT, *(REPO_ROOT / m for m in root["tool"]["uv"]["workspace"]["members"])]
    members: list[Member] = []
    for directory in directories:
        project = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
        backend = project["tool"]["uv"]["build-backend"]
        module: str = backend["module-name"]
        source = directory / backend.get("module-root", "src") / module
        members.append(Member(name=project["project"]["name"], module=module, source=source))
    return members


MEMBERS = _members()


def _uv() -> list[str]:
    """The uv command: the one running ``uv run`` (``$UV``), else ``uv`` on PATH, else ``python3 -m uv``.

    ``scripts/_uv.sh`` installs the pinned uv for the system ``python3`` when none is on PATH.
    """
    if uv := os.environ.get("UV"):
        return [uv]
    if uv := shutil.which("uv"):
        return [uv]
    return [shutil.which("python3") or "python3", "-m", "uv"]


def _run(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it exits non-zero."""
    result = subprocess.run(  # noqa: S603 - fixed argument lists built by this module
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def _clean_env(**extra: str) -> dict[str, str]:
    """The current environment without anything pointing at the checkout's environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX"}
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build every member's wheel and install the wheels plus the locked dependencies in a fresh venv."""
    tmp = tmp_path_factory.mktemp("packaging")
    dist, venv, workdir = tmp / "dist", tmp / "venv", tmp / "work"
    workdir.mkdir()
    uv, env = _uv(), _clean_env()
    _run(
        [*uv, "build", "--all-packages", "--wheel", "--offline", "--quiet", "-o", str(dist)],
        cwd=REPO_ROOT,
        env=env,
    )
    requirements = tmp / "requirements.txt"
    _run(
        [
            *uv,
            "export",
            "--frozen",
            "--all-packages",
            "--no-default-groups",
            "--no-emit-workspace",
            "--no-hashes",
            "--format",
            "requirements-txt",
            "--quiet",
            "-o",
            str(requirements),
        ],
        cwd=REPO_ROOT,
        env=env,
    )
    _run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp, env=env)
    python = venv / "bin" / "python"
    wheels = sorted(dist.glob("*.whl"))
    # --no-deps: the exported lock pins every third-party dependency, and offline resolution would need
    # metadata uv's cache does not keep for locked installs; `uv pip check` below proves completeness.
    _run(
        [
            *uv,
            "pip",
            "install",
            "--offline",
            "--no-deps",
            "--quiet",
            "--python",
            str(python),
            "-r",
            str(requirements),
        ]
        + [str(w) for w in wheels],
        cwd=tmp,
        env=env,
    )
    _run([*uv, "pip", "check", "--python", str(python)], cwd=tmp, env=env)
    by_member: dict[str, Path] = {}
    for member in MEMBERS:
        matches = [w for w in wheels if w.name.startswith(member.wheel_prefix)]
        assert len(matches) == 1, f"expected one wheel for {member.name} in {[w.name for w in wheels]}"
        by_member[member.name] = matches[0]
    run_env = _clean_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONSAFEPATH="1")
    return Installed(wheels=by_member, python=python, workdir=workdir, env=run_env)


def _package_files(source: Path) -> set[str]:
    """Files of a package directory as wheel paths (``bastion_retail/policies/retail.cedar``)."""
    return {
        path.relative_to(source.parent).as_posix()
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}
    }


def _wheel_files(wheel: Path) -> set[str]:
    """File entries of a wheel, without its ``*.dist-info`` metadata."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return {n for n in names if not n.endswith("/") and ".dist-info/" not in n}


@pytest.mark.parametrize("member", MEMBERS, ids=[m.name for m in MEMBERS])
def test_wheel_ships_the_package_with_its_data_and_nothing_else(installed: Installed, member: Member) -> None:
    files = _wheel_files(installed.wheels[member.name])

    assert f"{member.module}/py.typed" in files
    assert f"{member.module}/__init__.py" in files
    # Package data (policies, schemas, prompts, tool catalogs, demo scripts) travels with the code.
    missing = _package_files(member.source) - files
    assert not missing, f"{member.name} wheel lacks {sorted(missing)}"
    outside = sorted(f for f in files if PurePosixPath(f).parts[0] != member.module)
    assert not outside, f"{member.name} wheel ships files outside {member.module}/: {outside}"
    forbidden = sorted(
        f
        for f in files
        if _FORBIDDEN_PARTS.intersection(PurePosixPath(f).parts) or f.endswith(_FORBIDDEN_SUFFIXES)
    )
    assert not forbidden, f"{member.name} wheel ships {forbidden}"


def test_retail_wheel_ships_every_policy_and_text_file(installed: Installed) -> None:
    retail = next(m for m in MEMBERS if m.module == "bastion_retail")
    files = _wheel_files(installed.wheels[retail.name])
    data = {f for f in _package_files(retail.source) if not f.endswith(".py")}

    assert {f for f in data if f.endswith(".cedar")} <= files
    assert {f for f in data if f.endswith((".cedarschema", ".md", ".txt", ".j2", ".toml", ".json"))} <= files
    assert not [f for f in files if f.endswith(".cedar") and not (retail.source.parent / f).is_file()]


def test_installed_cli_starts_outside_the_checkout(installed: Installed) -> None:
    result = _run(
        [str(installed.python.parent / "bastion"), "--help"], cwd=installed.workdir, env=installed.env
    )

    assert "Usage: bastion" in result.stdout
    for command in ("serve", "demo", "chat", "replay"):
        assert command in result.stdout


_IMPORT_SNIPPET = """
import importlib, json, sys
from importlib.metadata import entry_points
modules = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}
domains = {ep.name: ep.value for ep in entry_points(group="bastion.domains")}
print(json.dumps({"modules": modules, "domains": domains}))
"""

_LOAD_DOMAIN_SNIPPET = """
from bastion.domain import load_domain
from bastion_policies import Principal
d = load_domain("retail")  # checks the declaration: catalog, Cedar files read as package data
engine = d.engine()
assert engine.bind(Principal("u1", ("customer",))).tool_names
print(len(engine.policy_ids), len(d.system_prompt(Principal("u1", ("customer",)))))
"""


def test_installed_packages_import_from_the_venv_and_declare_the_retail_domain(installed: Installed) -> None:
    modules = sorted({*IMPORTED_MODULES, *(m.module for m in MEMBERS)})
    result = _run(
        [str(installed.python), "-c", _IMPORT_SNIPPET, *modules], cwd=installed.workdir, env=installed.env
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])

    venv = installed.python.parent.parent
    for name in modules:
        assert Path(report["modules"][name]).is_relative_to(venv), (
            f"{name} imported from {report['modules'][name]}"
        )
    assert report["domains"].get("retail") == "bastion_retail:domain"

    # The installed domain loads: its policies and prompt are package data, not files in the checkout.
    loaded = _run(
        [str(installed.python), "-c", _LOAD_DOMAIN_SNIPPET], cwd=installed.workdir, env=installed.env
    )
    policies, prompt_chars = (int(x) for x in loaded.stdout.split())
    assert policies >= 6
    assert prompt_chars > 1000
