"""Fixtures for bastion_agents tests (helpers live in _agents_testkit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _agents_testkit import CHAT_SCRIPT, SECRET, FakeEngine, McpFixture, run_mcp_server
from bastion_agents import AgentFactory, ScriptedModel
from bastion_policies import JwtIssuer, JwtVerifier


@pytest.fixture(scope="session")
def verifier() -> JwtVerifier:
    return JwtVerifier(SECRET)


@pytest.fixture(scope="session")
def issuer() -> JwtIssuer:
    return JwtIssuer(SECRET)


@pytest.fixture(scope="session")
def mcp_server(verifier: JwtVerifier) -> Iterator[McpFixture]:
    with run_mcp_server(verifier) as fixture:
        yield fixture


@pytest.fixture
def scripted() -> ScriptedModel:
    return ScriptedModel(CHAT_SCRIPT)


@pytest.fixture
def make_factory(mcp_server: McpFixture, scripted: ScriptedModel) -> Any:
    def make(engine: FakeEngine | None = None, **kwargs: Any) -> AgentFactory:
        return AgentFactory(
            mcp_url=mcp_server.url,
            model=scripted,
            system_prompt=lambda p: f"You help {p.user_id}.",
            engine=engine,
            mcp_startup_timeout=10,
            **kwargs,
        )

    return make
