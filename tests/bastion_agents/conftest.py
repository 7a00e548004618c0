"""Fixtures for bastion_agents tests (helpers live in _agents_testkit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _agents_testkit import CHAT_SCRIPT, GROUPS, SECRET, FakeEngine, McpFixture, run_mcp_server
from bastion_agents import AgentFactory, PolicyChecker, ScriptedModel
from bastion_policies import (
    ExchangedTokenVerifier,
    JwtIssuer,
    JwtVerifier,
    TokenExchanger,
    derive_exchange_secret,
)


@pytest.fixture(scope="session")
def verifier() -> JwtVerifier:
    return JwtVerifier(SECRET, known_groups=GROUPS)


@pytest.fixture(scope="session")
def access_verifier(verifier: JwtVerifier) -> ExchangedTokenVerifier:
    """What the MCP server verifies: exchanged tokens (with a session id) and plain user tokens."""
    return ExchangedTokenVerifier(derive_exchange_secret(SECRET), user_verifier=verifier)


@pytest.fixture(scope="session")
def exchanger() -> TokenExchanger:
    return TokenExchanger(derive_exchange_secret(SECRET))


@pytest.fixture(scope="session")
def issuer() -> JwtIssuer:
    return JwtIssuer(SECRET)


@pytest.fixture(scope="session")
def mcp_server(access_verifier: ExchangedTokenVerifier) -> Iterator[McpFixture]:
    with run_mcp_server(access_verifier) as fixture:
        yield fixture


@pytest.fixture
def scripted() -> ScriptedModel:
    return ScriptedModel(CHAT_SCRIPT)


@pytest.fixture
def make_factory(mcp_server: McpFixture, scripted: ScriptedModel, exchanger: TokenExchanger) -> Any:
    """``make(engine=None, exchange=True, url=None, **kwargs)``: an AgentFactory on the test server.

    With ``exchange`` the agent's MCP client sends a token exchanged per request (a signed session
    id); without, the user's own token.
    """

    def make(
        engine: FakeEngine | PolicyChecker | None = None,
        *,
        exchange: bool = True,
        url: str | None = None,
        **kwargs: Any,
    ) -> AgentFactory:
        default_exchange = exchanger.exchange if exchange else None
        return AgentFactory(
            mcp_url=url or mcp_server.url,
            model=scripted,
            system_prompt=lambda p: f"You help {p.user_id}.",
            engine=engine,
            token_exchange=kwargs.pop("token_exchange", default_exchange),
            mcp_startup_timeout=10,
            **kwargs,
        )

    return make
