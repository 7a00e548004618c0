"""Fixtures for the `bastion` CLI package: settings isolated in a temporary state directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.domain import Domain, load_domain
from bastion.settings import Settings

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read from the environment never fall back to ./.bastion in the checkout."""
    monkeypatch.setenv("BASTION_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BASTION_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh state directory, the shared retail data and ephemeral-port friendly values."""
    return Settings(
        state_dir=tmp_path / "state",
        data_dir=DATA,
        models_dir=tmp_path / "models",
        cache_dir=tmp_path / "cache",
    )


@pytest.fixture(scope="session")
def retail() -> Domain:
    return load_domain("retail")
