"""Fixtures: the retail MCP server over an in-process legacy API, reached over in-process HTTP."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from bastion_facades import LegacyClient, RetailFacade
from bastion_legacy import LegacyConfig, LegacyStore, create_app
from bastion_mcp import SESSION_HEADER, PolicyBoundServer, create_retail_server
from bastion_policies import AuditLog, JwtIssuer, JwtVerifier, PolicyEngine
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

SECRET = b"test-secret-0123456789abcdef0123"
MCP_URL = "http://127.0.0.1:8102/mcp"


@pytest.fixture
def store(tmp_path: Path, template_db: Path, seed_path: Path) -> Iterator[LegacyStore]:
    db = tmp_path / "legacy.sqlite3"
    db.write_bytes(template_db.read_bytes())
    opened = LegacyStore.open(db, seed_path)
    yield opened
    opened.close()


@pytest.fixture
def issuer() -> JwtIssuer:
    return JwtIssuer(SECRET)


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
def server(store: LegacyStore, audit_path: Path, tmp_path: Path, seed_path: Path) -> PolicyBoundServer:
    config = LegacyConfig(
        db_path=tmp_path / "legacy.sqlite3",
        seed_path=seed_path,
        client_id="facade",
        client_secret="s3cret",
    )
    legacy = create_app(config, store=store)
    client = LegacyClient("http://legacy.test", "facade", "s3cret", transport=httpx.ASGITransport(app=legacy))
    engine = PolicyEngine.retail(audit=AuditLog(audit_path))
    return create_retail_server(RetailFacade(client), engine, JwtVerifier(SECRET), resource_url=MCP_URL)


Connect = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def connect(server: PolicyBoundServer) -> Connect:
    """Open MCP sessions to the server over in-process streamable HTTP with a bearer token."""

    @asynccontextmanager
    async def _open(token: str, session: str | None = None) -> AsyncGenerator[Client]:
        # Each app owns a fresh session manager, whose task group lives inside this context.
        app = server.streamable_http_app(host="127.0.0.1")
        headers = {"Authorization": "Bearer " + token}
        if session is not None:
            headers[SESSION_HEADER] = session
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), headers=headers)
        async with (
            server.session_manager.run(),
            http,
            Client(streamable_http_client(MCP_URL, http_client=http)) as client,
        ):
            yield client

    return _open
