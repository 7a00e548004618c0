"""Fixtures for the `bastion` CLI package: settings isolated in a temporary state directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.settings import Settings

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh state directory, the shared retail data and ephemeral-port friendly values."""
    return Settings(
        state_dir=tmp_path / "state",
        data_dir=DATA,
        models_dir=tmp_path / "models",
        cache_dir=tmp_path / "cache",
    )
