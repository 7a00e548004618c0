"""Fixtures: a legacy app on a fresh store (copied from a template imported once), a fake clock."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from bastion_legacy import LegacyConfig, LegacyStore, create_app

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail"
CLIENT_ID = "legacy-tests"
CLIENT_SECRET = "legacy-tests-secret"


class FakeClock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path: Path, template_db: Path, seed_path: Path, clock: FakeClock) -> LegacyConfig:
    db_path = tmp_path / "legacy.sqlite3"
    shutil.copyfile(template_db, db_path)
    return LegacyConfig(
        db_path=db_path,
        seed_path=seed_path,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_ttl_seconds=300,
        clock=clock,
    )


@pytest.fixture
def store(config: LegacyConfig) -> Iterator[LegacyStore]:
    s = LegacyStore.open(config.db_path, config.seed_path, clock=config.clock)
    yield s
    s.close()


@pytest.fixture
async def http(config: LegacyConfig, store: LegacyStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://legacy.test") as c:
        yield c


TokenGetter = Callable[[], Awaitable[str]]


@pytest.fixture
def get_token(http: httpx.AsyncClient) -> TokenGetter:
    async def get() -> str:
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    return get


@pytest.fixture
async def auth(get_token: TokenGetter) -> dict[str, str]:
    return {"Authorization": f"Bearer {await get_token()}"}
