"""Fixtures: the retail MCP server over the in-process retail stand-in, reached over in-process HTTP.

The stack is wired as ``bastion.stack.Stack`` wires it, minus sockets: the retail stand-in app served
through ``httpx.ASGITransport`` (wrapped in a request-counting transport) to the retail facade, the
retail policy engine with an audit log, a SQLite session store, the exchanged-token verifier (which
also accepts plain user tokens), and the server's streamable HTTP app reached through
``httpx2.ASGITransport``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import bastion_retail
import httpx
import httpx2
import pytest
from bastion_mcp import JwtTokenVerifier, PolicyBoundServer, SqliteSessionStore
from bastion_policies import (
    AuditLog,
    ExchangedTokenVerifier,
    JwtIssuer,
    JwtVerifier,
    Principal,
    TokenExchanger,
    derive_exchange_secret,
)
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from bastion.domain import LegacyConnection, StandinConfig

SECRET = b"test-secret-0123456789abcdef0123"
MCP_URL = "http://127.0.0.1:8102/mcp"
LEGACY_URL = "http://legacy.test"
CLIENT_ID = "bastion-facade-tests"
CLIENT_SECRET = "bastion-facade-tests-secret"
DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "tau2-retail"

Connect = Callable[..., AbstractAsyncContextManager[Client]]
"""``connect(token, *, server_=None, legacy=False)``: an MCP client session with a bearer token.

The default client speaks the sessionless 2026 protocol (no transport session); ``legacy=True`` uses
the initialize handshake, so the server holds a transport session (``Mcp-Session-Id``).
"""


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps the stand-in's transport; records every request; can be switched to fail.

    Attributes:
        requests: ``(method, path)`` of every request sent (including failed ones).
        failure: None to pass requests through, ``"connect"`` to raise ``httpx.ConnectError``, or an
            HTTP status code to answer with instead (token requests still pass).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str]] = []
        self.failure: str | int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if self.failure is not None and request.url.path != "/oauth/token":
            if self.failure == "connect":
                raise httpx.ConnectError("connection refused to 10.0.0.7:8443", request=request)
            return httpx.Response(int(self.failure), json={"detail": "maintenance on db-7 10.0.0.7"})
        return await self.inner.handle_async_request(request)

    def resource_requests(self) -> list[tuple[str, str]]:
        """Requests other than the OAuth token hop."""
        return [r for r in self.requests if r[1] != "/oauth/token"]

    async def aclose(self) -> None:
        await self.inner.aclose()


class Audit:
    """Reads the audit log the engine and server write."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> list[dict[str, Any]]:
        """Every record so far (empty if nothing was written)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines()]

    def mark(self) -> int:
        """The number of records so far (to read only the later ones with :meth:`since`)."""
        return len(self.records())

    def since(self, mark: int) -> list[dict[str, Any]]:
        """Records written after ``mark``."""
        return self.records()[mark:]


@pytest.fixture
def standin(tmp_path: Path, template_db: Path) -> Iterator[bastion_retail.RetailStandin]:
    db = tmp_path / "legacy.sqlite3"
    shutil.copyfile(template_db, db)  # a pre-imported copy of the tau2 data: no re-import per test
    opened = bastion_retail.RetailStandin(StandinConfig(db, DATA_DIR, CLIENT_ID, CLIENT_SECRET))
    yield opened
    opened.close()


@pytest.fixture
def legacy(standin: bastion_retail.RetailStandin) -> CountingTransport:
    return CountingTransport(httpx.ASGITransport(app=standin.app))


@pytest.fixture
def issuer() -> JwtIssuer:
    return JwtIssuer(SECRET)


@pytest.fixture
def exchanger() -> TokenExchanger:
    return TokenExchanger(derive_exchange_secret(SECRET))


@pytest.fixture
def user_verifier() -> JwtVerifier:
    return JwtVerifier(SECRET, known_groups=bastion_retail.GROUPS)


def principal(user_id: str, *groups: str) -> Principal:
    """A principal as a user token from the test issuer verifies to (``iss`` bastion-dev)."""
    return Principal(user_id, groups, claims={"iss": "bastion-dev"})


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
def audit(audit_path: Path) -> Audit:
    return Audit(audit_path)


@pytest.fixture
def sessions_path(tmp_path: Path) -> Path:
    return tmp_path / "sessions.sqlite3"


MakeServer = Callable[[], PolicyBoundServer]


@pytest.fixture
async def make_server(
    legacy: CountingTransport, audit_path: Path, sessions_path: Path, user_verifier: JwtVerifier
) -> AsyncIterator[MakeServer]:
    """Build servers (each a fresh engine, facade and session store on the same files: a restart)."""
    stores: list[SqliteSessionStore] = []

    def make() -> PolicyBoundServer:
        facade = bastion_retail.domain.facade(
            LegacyConnection(LEGACY_URL, CLIENT_ID, CLIENT_SECRET, transport=legacy)
        )
        store = SqliteSessionStore(sessions_path)
        stores.append(store)
        verifier = ExchangedTokenVerifier(derive_exchange_secret(SECRET), user_verifier=user_verifier)
        return PolicyBoundServer(
            name="bastion-retail-tests",
            facade=facade,
            engine=bastion_retail.domain.engine(audit=AuditLog(audit_path)),
            sessions=store,
            token_verifier=JwtTokenVerifier(verifier),
            resource_url=MCP_URL,
            issuer_url="http://127.0.0.1:8102",
            instructions=bastion_retail.domain.instructions or None,
        )

    yield make
    for store in stores:
        await store.aclose()


@pytest.fixture
def server(make_server: MakeServer) -> PolicyBoundServer:
    return make_server()


@pytest.fixture
def connect(server: PolicyBoundServer) -> Connect:
    """Open MCP client sessions to a server over in-process streamable HTTP with a bearer token."""

    @asynccontextmanager
    async def _open(
        token: str, *, server_: PolicyBoundServer | None = None, legacy: bool = False
    ) -> AsyncGenerator[Client]:
        target = server_ or server
        # Each app owns a fresh session manager, whose task group lives inside this context.
        app = target.streamable_http_app(host="127.0.0.1")
        http = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), headers={"Authorization": "Bearer " + token}
        )
        async with (
            target.session_manager.run(),
            http,
            Client(
                streamable_http_client(MCP_URL, http_client=http), mode="legacy" if legacy else "auto"
            ) as client,
        ):
            yield client

    return _open
