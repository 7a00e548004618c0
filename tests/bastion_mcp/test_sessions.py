"""Session facts that cannot be forged, lost or evicted: both stores, against real SQLite and Redis."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest
import redis.asyncio as aioredis
from _redis_server import redis_url  # noqa: F401  # pyright: ignore[reportUnusedImport] - a fixture
from bastion_mcp._session_redis import RedisSessionStore
from bastion_mcp._session_sqlite import SqliteSessionStore
from bastion_mcp._sessions import SessionStore, owner_key, transport_session_key
from bastion_mcp.errors import (
    ConfigurationError,
    McpServerError,
    SessionOwnershipError,
    SessionStoreUnavailableError,
)
from bastion_policies import Principal
from bastion_policies._exchange import derive_session_id
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

IDLE = 1800.0
SARA = Principal("sara_doe_496", ("customer",), claims={"iss": "bastion-dev"})
MALLORY = Principal("mallory_1", ("customer",), claims={"iss": "bastion-dev"})
AGENT = Principal("agent_7", ("support_agent",), claims={"iss": "bastion-dev"})


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Backend(Protocol):
    name: str
    clock: FakeClock

    def new_store(self) -> SessionStore:
        """A new store object on the same backing file/server (a restart or another replica)."""
        ...

    async def expire(self, session_key: str) -> None:
        """Make the session idle past its limit."""
        ...

    async def assert_idle_timer(self, session_key: str) -> None:
        """Assert the session lives exactly ``IDLE`` seconds from its last use."""
        ...


class SqliteBackend:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = FakeClock()
        self.stores: list[SessionStore] = []

    def new_store(self) -> SessionStore:
        store = SqliteSessionStore(self.path, idle_seconds=IDLE, clock=self.clock)
        self.stores.append(store)
        return store

    async def expire(self, session_key: str) -> None:
        self.clock.now += IDLE

    async def assert_idle_timer(self, session_key: str) -> None:
        store = self.new_store()
        opened_at = self.clock.now
        self.clock.now = opened_at + IDLE - 1
        assert await store.get(session_key) is not None
        self.clock.now = opened_at + IDLE
        assert await store.get(session_key) is None
        self.clock.now = opened_at


class RedisBackend:
    name = "redis"

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = FakeClock()
        self.prefix = f"test:{uuid.uuid4().hex}:"
        self.stores: list[SessionStore] = []
        self.raw = aioredis.Redis.from_url(url)

    def new_store(self) -> SessionStore:
        store = RedisSessionStore(
            aioredis.Redis.from_url(self.url), idle_seconds=IDLE, prefix=self.prefix, clock=self.clock
        )
        self.stores.append(store)
        return store

    async def expire(self, session_key: str) -> None:
        # An expiry time in the past: Redis treats the key exactly as if its TTL had run out.
        assert await self.raw.pexpireat(self.prefix + session_key, 1)

    async def assert_idle_timer(self, session_key: str) -> None:
        ttl_ms = await self.raw.pttl(self.prefix + session_key)
        assert IDLE * 1000 - 5_000 < ttl_ms <= IDLE * 1000


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    made: SqliteBackend | RedisBackend
    if request.param == "sqlite":
        made = SqliteBackend(tmp_path / "state" / "sessions.sqlite3")
    else:
        made = RedisBackend(request.getfixturevalue("redis_url"))
    yield made
    for store in made.stores:
        await store.aclose()
    if isinstance(made, RedisBackend):
        await made.raw.aclose()


async def test_open_creates_and_reopens_the_same_session(backend: Backend) -> None:
    store = backend.new_store()
    first = await store.open("conv:a", SARA)
    backend.clock.now += 60
    again = await store.open("conv:a", SARA)

    assert first.owned_by(SARA) and first.subject_id is None
    assert again.created == first.created
    assert again.last_seen == first.last_seen + 60
    assert await store.get("conv:a") == again
    assert await store.get("conv:unknown") is None


async def test_session_claimed_in_advance_by_another_principal_is_refused(backend: Backend) -> None:
    store = backend.new_store()
    await store.open("conv:target", MALLORY)  # mallory guesses the key first

    with pytest.raises(SessionOwnershipError) as info:
        await store.open("conv:target", SARA)
    with pytest.raises(SessionOwnershipError):
        await store.pin_subject("conv:target", SARA, "sara_doe_496")
    assert isinstance(info.value, McpServerError)
    assert "another user" in str(info.value)


async def test_another_principal_cannot_use_or_repin_a_live_session(backend: Backend) -> None:
    store = backend.new_store()
    await store.pin_subject("conv:s", AGENT, "sara_doe_496")

    for intruder in (
        MALLORY,
        Principal("agent_7", ("supervisor",)),
        Principal("agent_7", ("support_agent",), tenant="t2"),
    ):
        with pytest.raises(SessionOwnershipError):
            await store.open("conv:s", intruder)
        with pytest.raises(SessionOwnershipError):
            await store.pin_subject("conv:s", intruder, "mallory_1")
    record = await store.get("conv:s")
    assert record is not None and record.owned_by(AGENT) and record.subject_id == "sara_doe_496"


async def test_same_user_with_a_refreshed_token_keeps_the_session(backend: Backend) -> None:
    store = backend.new_store()
    await store.pin_subject("conv:s", AGENT, "sara_doe_496")
    refreshed = Principal(
        "agent_7", ("support_agent",), claims={"iss": "bastion-dev", "iat": "99", "jti": "x"}
    )

    record = await store.open("conv:s", refreshed)

    assert record.subject_id == "sara_doe_496"


async def test_pin_is_set_once_and_never_overwritten(backend: Backend) -> None:
    store = backend.new_store()
    assert await store.pin_subject("conv:s", AGENT, "first") == "first"
    assert await store.pin_subject("conv:s", AGENT, "second") == "first"
    record = await store.get("conv:s")
    assert record is not None and record.subject_id == "first"


async def test_pin_is_atomic_under_concurrency(backend: Backend) -> None:
    stores = [backend.new_store(), backend.new_store()]  # two connections: two workers or replicas
    await stores[0].open("conv:race", AGENT)

    winners = await asyncio.gather(
        *(stores[i % 2].pin_subject("conv:race", AGENT, f"customer_{i}") for i in range(20))
    )

    assert len(set(winners)) == 1
    record = await stores[1].get("conv:race")
    assert record is not None and record.subject_id == winners[0]


async def test_a_flood_of_new_sessions_evicts_no_live_session(backend: Backend) -> None:
    store = backend.new_store()
    await store.pin_subject("conv:live", AGENT, "sara_doe_496")

    for i in range(10_001):
        await store.open(f"conv:flood-{i}", MALLORY)

    record = await store.get("conv:live")
    assert record is not None and record.owned_by(AGENT) and record.subject_id == "sara_doe_496"
    assert await store.pin_subject("conv:live", AGENT, "mallory_1") == "sara_doe_496"
    with pytest.raises(SessionOwnershipError):
        await store.open("conv:live", MALLORY)


async def test_sessions_expire_by_idle_time(backend: Backend) -> None:
    store = backend.new_store()
    await store.pin_subject("conv:s", AGENT, "sara_doe_496")
    await backend.assert_idle_timer("conv:s")

    await backend.expire("conv:s")

    assert await store.get("conv:s") is None
    reopened = await store.open("conv:s", MALLORY)  # an expired session is absent: a new one
    assert reopened.owned_by(MALLORY) and reopened.subject_id is None


async def test_use_refreshes_the_idle_timer(backend: Backend) -> None:
    store = backend.new_store()
    await store.open("conv:s", SARA)
    backend.clock.now += IDLE - 1
    await store.open("conv:s", SARA)
    await backend.assert_idle_timer("conv:s")
    backend.clock.now += IDLE - 1
    assert await store.get("conv:s") is not None


async def test_facts_survive_a_restart(backend: Backend) -> None:
    before = backend.new_store()
    await before.pin_subject("conv:s", AGENT, "sara_doe_496")
    await before.aclose()

    after = backend.new_store()

    record = await after.get("conv:s")
    assert record is not None and record.owned_by(AGENT) and record.subject_id == "sara_doe_496"
    with pytest.raises(SessionOwnershipError):
        await after.open("conv:s", MALLORY)


async def test_long_keys_are_refused_not_truncated(backend: Backend) -> None:
    store = backend.new_store()
    await store.open("k" * 200, SARA)
    with pytest.raises(ConfigurationError):
        await store.open("k" * 201, MALLORY)
    with pytest.raises(ConfigurationError):
        await store.open("", MALLORY)
    with pytest.raises(ConfigurationError):
        await store.pin_subject("conv:s", SARA, "")


async def test_derived_keys_separate_principals_and_long_conversation_ids(backend: Backend) -> None:
    store = backend.new_store()
    long_id = "c" * 10_000
    await store.pin_subject(derive_session_id(SARA, long_id), SARA, "sara_doe_496")

    # Same conversation id, another principal: another session, no refusal and no shared facts.
    theirs = await store.open(derive_session_id(MALLORY, long_id), MALLORY)
    prefix = await store.open(derive_session_id(SARA, long_id[:128]), SARA)

    assert theirs.subject_id is None and prefix.subject_id is None


async def test_transport_sessions_get_their_own_key_space(backend: Backend) -> None:
    store = backend.new_store()
    key = transport_session_key("x" * 1000)
    assert key.startswith("mcp:") and len(key) == 68
    assert key != transport_session_key("x" * 999)
    assert (await store.open(key, SARA)).owned_by(SARA)


# -- store-specific ---------------------------------------------------------------------------------


async def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sessions.sqlite3"
    store = SqliteSessionStore(path)
    await store.open("conv:s", SARA)
    await store.aclose()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_sqlite_purges_only_expired_rows(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "sessions.sqlite3"
    store = SqliteSessionStore(path, idle_seconds=IDLE, clock=clock)
    await store.open("conv:old", SARA)
    clock.now += IDLE - 100
    await store.open("conv:live", SARA)
    clock.now += 100  # conv:old is now idle for IDLE seconds, conv:live for 100 s
    await store.open("conv:new", SARA)
    await store.aclose()

    with sqlite3.connect(path) as conn:
        keys = {row[0] for row in conn.execute("SELECT session_key FROM sessions")}
    conn.close()
    assert keys == {"conv:live", "conv:new"}


_WORKER = """
import asyncio, sys
from bastion_mcp._session_sqlite import SqliteSessionStore
from bastion_policies import Principal

async def main() -> None:
    store = SqliteSessionStore(sys.argv[1])
    agent = Principal("agent_7", ("support_agent",), claims={"iss": "bastion-dev"})
    sys.stdin.readline()  # start together
    won = {await store.pin_subject("conv:race", agent, sys.argv[2] + "-" + str(i)) for i in range(20)}
    print(",".join(sorted(won)))
    await store.aclose()

asyncio.run(main())
"""


def test_sqlite_pin_is_atomic_across_worker_processes(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    workers = [
        subprocess.Popen(  # noqa: S603 - this interpreter with a fixed script
            [sys.executable, "-c", _WORKER, str(path), f"w{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    outputs = [w.communicate("go\n", timeout=60)[0].strip() for w in workers]

    assert all(w.returncode == 0 for w in workers)
    assert len(set(outputs)) == 1 and "," not in outputs[0]


async def test_redis_store_from_url(redis_url: str) -> None:  # noqa: F811
    store = RedisSessionStore.from_url(redis_url, prefix=f"test:{uuid.uuid4().hex}:", idle_seconds=60)
    try:
        assert await store.pin_subject("conv:s", AGENT, "sara_doe_496") == "sara_doe_496"
        assert store.idle_seconds == 60
    finally:
        await store.aclose()


async def test_sqlite_outage_is_reported_as_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    store = SqliteSessionStore(blocker / "sessions.sqlite3")

    with pytest.raises(SessionStoreUnavailableError) as info:
        await store.open("conv:s", SARA)
    with pytest.raises(SessionStoreUnavailableError):
        await store.pin_subject("conv:s", SARA, "sara_doe_496")
    with pytest.raises(SessionStoreUnavailableError):
        await store.get("conv:s")
    assert "try again later" in str(info.value)
    assert str(blocker) not in str(info.value)


async def test_sqlite_outage_on_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = SqliteSessionStore(path)
    with pytest.raises(SessionStoreUnavailableError):
        await store.open("conv:s", SARA)
    await store.aclose()


async def test_redis_outage_is_reported_as_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = aioredis.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    store = RedisSessionStore(client)
    try:
        with pytest.raises(SessionStoreUnavailableError):
            await store.open("conv:s", SARA)
        with pytest.raises(SessionStoreUnavailableError):
            await store.pin_subject("conv:s", SARA, "sara_doe_496")
        with pytest.raises(SessionStoreUnavailableError):
            await store.get("conv:s")
    finally:
        await store.aclose()


async def test_redis_refuses_a_server_that_may_evict_sessions(redis_url: str) -> None:  # noqa: F811
    admin = aioredis.Redis.from_url(redis_url)
    store = RedisSessionStore(aioredis.Redis.from_url(redis_url), prefix=f"test:{uuid.uuid4().hex}:")
    await admin.config_set("maxmemory", "512mb")
    await admin.config_set("maxmemory-policy", "volatile-lru")
    try:
        with pytest.raises(ConfigurationError, match="noeviction"):
            await store.open("conv:s", SARA)
        await admin.config_set("maxmemory-policy", "noeviction")
        assert (await store.open("conv:s", SARA)).owned_by(SARA)
    finally:
        await admin.config_set("maxmemory", "0")
        await store.aclose()
        await admin.aclose()


async def test_redis_store_works_with_decoded_responses(redis_url: str) -> None:  # noqa: F811
    store = RedisSessionStore(
        aioredis.Redis.from_url(redis_url, decode_responses=True), prefix=f"test:{uuid.uuid4().hex}:"
    )
    try:
        assert await store.pin_subject("conv:s", AGENT, "sara_doe_496") == "sara_doe_496"
        record = await store.get("conv:s")
        assert record is not None and record.owner == owner_key(AGENT)
    finally:
        await store.aclose()


def test_owner_key_ignores_claims_and_group_order() -> None:
    a = Principal("u", ("support_agent", "supervisor"), claims={"iat": "1"})
    b = Principal("u", ("supervisor", "support_agent"), claims={"iat": "2"})
    assert owner_key(a) == owner_key(b)
    assert owner_key(a) != owner_key(Principal("u", ("support_agent", "supervisor"), tenant="t"))


def test_stores_refuse_bad_configuration() -> None:
    with pytest.raises(ConfigurationError):
        SqliteSessionStore("x.sqlite3", idle_seconds=0)
    with pytest.raises(ConfigurationError):
        RedisSessionStore(aioredis.Redis(), idle_seconds=-1)
    with pytest.raises(ConfigurationError):
        transport_session_key("")
