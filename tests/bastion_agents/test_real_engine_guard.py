"""The agent with the real retail PolicyEngine (Cedar) on both sides, like the deployed stack.

The agent pre-checks with the portable policies only and never calls tools of its own to learn who owns
an order: one model tool call is exactly one MCP ``tools/call``. The (test) MCP server resolves the
owner and the session and decides with every policy; its denial reaches the agent as structured
``_meta`` and is reported as a server denial with the server's policy ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _agents_testkit import McpFixture, run_mcp_server
from bastion_agents import ChatEvent, PolicyDenialEvent, ToolCallEvent, ToolResultEvent
from bastion_policies import ExchangedTokenVerifier, JwtIssuer, JwtVerifier, PolicyEngine
from bastion_retail import domain as retail


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return retail.engine()


@pytest.fixture(scope="module")
def policed_server(access_verifier: ExchangedTokenVerifier, engine: PolicyEngine) -> Iterator[McpFixture]:
    with run_mcp_server(access_verifier, engine) as fixture:
        yield fixture


async def _ask(session: Any, message: str) -> list[ChatEvent]:
    return [event async for event in session.ask(message)]


async def test_customer_own_order_allowed_and_another_customers_denied_by_the_server(
    make_factory: Any,
    issuer: JwtIssuer,
    verifier: JwtVerifier,
    engine: PolicyEngine,
    policed_server: McpFixture,
) -> None:
    log = policed_server.log
    factory = make_factory(engine=engine, url=policed_server.url)
    token = issuer.issue("alice_1", ["customer"])
    with factory.open(verifier.verify(token), token, "real-engine-alice") as session:
        start = len(log.call_requests)
        own = await _ask(session, "order #W1111111")
        # One model tool call, one MCP tools/call: no owner look-up of the agent's own.
        assert log.call_requests[start:] == ["get_order_details"]
        other = await _ask(session, "cancel #W2222222")
    assert log.call_requests[start:] == ["get_order_details", "cancel_pending_order"]
    own_call = next(e for e in own if isinstance(e, ToolCallEvent))
    assert own_call.decision == "allowed"
    assert not any(isinstance(e, PolicyDenialEvent) for e in own)
    # The portable pre-check cannot know the owner: it lets the call go, the server decides.
    other_call = next(e for e in other if isinstance(e, ToolCallEvent))
    assert other_call.decision == "allowed"
    denial = next(e for e in other if isinstance(e, PolicyDenialEvent))
    assert denial.source == "server"
    assert "bastion-customer-own-orders" in denial.policy_ids
    assert denial.reason.startswith("Denied by policy:")
    assert "own orders" in denial.reason
    result = next(e for e in other if isinstance(e, ToolResultEvent))
    assert not result.ok
    assert not any(name == "cancel_pending_order" for _, name, _ in log.calls)


async def test_support_agent_needs_the_exchanged_session_token(
    make_factory: Any,
    issuer: JwtIssuer,
    verifier: JwtVerifier,
    engine: PolicyEngine,
    policed_server: McpFixture,
) -> None:
    token = issuer.issue("sam", ["support_agent"])
    principal = verifier.verify(token)
    with make_factory(engine=engine, url=policed_server.url).open(principal, token, "sam-1") as session:
        with_session = await _ask(session, "order #W1111111")
    assert not any(isinstance(e, PolicyDenialEvent) for e in with_session)
    assert with_session[-1].text == "Order #W1111111 is pending."  # pyright: ignore[reportAttributeAccessIssue]
    assert policed_server.log.sessions[-1] is not None

    plain = make_factory(engine=engine, url=policed_server.url, exchange=False)
    with plain.open(principal, token, "sam-2") as session:
        without = await _ask(session, "order #W1111111")
    denial = next(e for e in without if isinstance(e, PolicyDenialEvent))
    assert denial.source == "server"
    assert "bastion-agent-needs-session" in denial.policy_ids
