"""Fixtures shared by every test package: the tau2-bench retail data and a seeded legacy database."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_legacy import LegacyStore

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau2-retail"


@pytest.fixture(scope="session")
def seed_path() -> Path:
    """The retail ``db.json`` beside the checkout (``../shared/data/tau2-retail``)."""
    path = DATA_DIR / "db.json"
    if not path.is_file():
        pytest.fail(f"tau2-bench retail data not found at {DATA_DIR}")
    return path


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, seed_path: Path) -> Path:
    """A SQLite file imported once from db.json; tests copy it instead of re-importing."""
    path = tmp_path_factory.mktemp("legacy-template") / "legacy.sqlite3"
    LegacyStore.open(path, seed_path).close()
    return path
