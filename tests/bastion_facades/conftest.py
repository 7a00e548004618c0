"""Fixtures: a fresh in-process legacy retail API per test, and a facade talking to it over ASGI."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bastion_facades import LegacyClient, RetailFacade
from bastion_legacy import LegacyConfig, LegacyStore, create_app
from fastapi import FastAPI

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail"
CLIENT_ID = "facade-tests"
CLIENT_SECRET = "facade-tests-secret"


class LegacyWorld:
    """A fresh legacy store + app (copied from the template)."""

    def __init__(self, db_path: Path, template_db: Path, seed_path: Path, **config: Any) -> None:
        shutil.copyfile(template_db, db_path)
        self.config = LegacyConfig(
            db_path=db_path, seed_path=seed_path, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **config
        )
        self.store = LegacyStore.open(db_path, seed_path)
        self.app: FastAPI = create_app(self.config, store=self.store)

    def client(self, **kwargs: object) -> LegacyClient:
        return LegacyClient(
            "http://legacy.test",
            CLIENT_ID,
            CLIENT_SECRET,
            transport=httpx.ASGITransport(app=self.app),
            **kwargs,  # type: ignore[arg-type]
        )


WorldFactory = Callable[..., LegacyWorld]


@pytest.fixture
def make_world(tmp_path: Path, template_db: Path, seed_path: Path) -> Iterator[WorldFactory]:
    """Build fresh worlds: ``make_world(name="x", **LegacyConfig overrides)``."""
    worlds: list[LegacyWorld] = []

    def make(name: str = "legacy", **config: Any) -> LegacyWorld:
        world = LegacyWorld(tmp_path / f"{name}.sqlite3", template_db, seed_path, **config)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.store.close()


@pytest.fixture
def world(make_world: WorldFactory) -> LegacyWorld:
    return make_world()


@pytest.fixture(scope="session")
def expected_tasks() -> list[dict[str, Any]]:
    path = DATA_DIR / "expected_train.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
async def facade(world: LegacyWorld) -> AsyncIterator[RetailFacade]:
    client = world.client()
    async with client:
        yield RetailFacade(client)
