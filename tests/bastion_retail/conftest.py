"""Fixtures: fresh in-process legacy retail APIs, the declarative retail facade over ASGI, and a
request-counting transport."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _reference_retail import LegacyClient, RetailFacade
from bastion_facades import Facade
from bastion_legacy import LegacyConfig, LegacyStore, create_app
from bastion_retail import create_retail_facade
from fastapi import FastAPI

CLIENT_ID = "retail-tests"
CLIENT_SECRET = "retail-tests-secret"
BASE_URL = "http://legacy.test"


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and records every request it sends (method, path, query)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path, request.url.query.decode()))
        return await self.inner.handle_async_request(request)

    def resource_requests(self) -> list[tuple[str, str, str]]:
        """Requests other than the token hop."""
        return [r for r in self.requests if r[1] != "/oauth/token"]

    async def aclose(self) -> None:
        await self.inner.aclose()


class RetailWorld:
    """A fresh legacy store + app (copied from the template database)."""

    def __init__(self, db_path: Path, template_db: Path, seed_path: Path, **config: Any) -> None:
        shutil.copyfile(template_db, db_path)
        self.config = LegacyConfig(
            db_path=db_path, seed_path=seed_path, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **config
        )
        self.store = LegacyStore.open(db_path, seed_path)
        self.app: FastAPI = create_app(self.config, store=self.store)
        self.transport = CountingTransport(httpx.ASGITransport(app=self.app))

    def facade(self, **kwargs: Any) -> Facade:
        """The declarative retail facade over this world."""
        return create_retail_facade(BASE_URL, CLIENT_ID, CLIENT_SECRET, transport=self.transport, **kwargs)

    def old_facade(self) -> tuple[LegacyClient, RetailFacade]:
        """Today's hand-written facade over this world (for parity)."""
        client = LegacyClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, transport=httpx.ASGITransport(app=self.app))
        return client, RetailFacade(client)


WorldFactory = Callable[..., RetailWorld]


@pytest.fixture
def make_world(tmp_path: Path, template_db: Path, seed_path: Path) -> Iterator[WorldFactory]:
    """Build fresh worlds: ``make_world(name="x", **LegacyConfig overrides)``."""
    worlds: list[RetailWorld] = []

    def make(name: str = "legacy", **config: Any) -> RetailWorld:
        world = RetailWorld(tmp_path / f"{name}.sqlite3", template_db, seed_path, **config)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.store.close()


@pytest.fixture
def world(make_world: WorldFactory) -> RetailWorld:
    return make_world()


@pytest.fixture(scope="session")
def expected_tasks(seed_path: Path) -> list[dict[str, Any]]:
    """The benchmark's expected actions per train task (``expected_train.jsonl``)."""
    path = seed_path.parent / "expected_train.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
async def facade(world: RetailWorld) -> AsyncIterator[Facade]:
    async with world.facade() as built:
        yield built
