"""AgentFactory/AgentSession against the in-process MCP server with the scripted model."""

from __future__ import annotations

from typing import Any

import pytest
from _agents_testkit import FakeEngine, McpFixture
from bastion_agents import (
    ChatEvent,
    Final,
    PolicyDenialEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    ToolServerError,
)
from bastion_agents.factory import AgentSession
from bastion_policies import JwtIssuer, JwtVerifier


async def _turn(session: AgentSession, message: str) -> list[ChatEvent]:
    return [event async for event in session.ask(message)]


def _open(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier, user: str, group: str, **kw: Any
) -> AgentSession:
    token = issuer.issue(user, [group])
    return make_factory(**kw).open(verifier.verify(token), token, f"s-{user}-{group}")


def test_binds_exactly_the_tools_the_server_lists(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier
) -> None:
    with _open(make_factory, issuer, verifier, "alice_1", "customer") as customer:
        assert customer.bound_tools == ("cancel_pending_order", "get_order_details", "get_user_details")
        assert sorted(customer._agent.tool_names) == list(customer.bound_tools)  # pyright: ignore[reportPrivateUsage]
    with _open(make_factory, issuer, verifier, "sam", "support_agent") as agent:
        assert "find_user_id_by_email" in agent.bound_tools


async def test_a_turn_streams_call_result_and_final_text(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier, mcp_server: McpFixture
) -> None:
    with _open(make_factory, issuer, verifier, "alice_1", "customer", engine=FakeEngine()) as session:
        events = await _turn(session, "what about order #W1111111?")
    call = events[0]
    assert isinstance(call, ToolCallEvent)
    assert (call.tool, call.arguments, call.decision, call.policy_ids) == (
        "get_order_details",
        {"order_id": "#W1111111"},
        "allowed",
        ("test-permit",),
    )
    result = events[1]
    assert isinstance(result, ToolResultEvent)
    assert result.ok
    assert result.call_id == call.call_id
    assert '"pending"' in result.content_preview
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Order #W1111111 is pending."
    assert events[-1] == Final("Order #W1111111 is pending.")
    assert ("alice_1", "get_order_details", {"order_id": "#W1111111"}) in mcp_server.log.calls


async def test_agent_side_denial_cancels_the_call_before_it_reaches_the_server(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier, mcp_server: McpFixture
) -> None:
    engine = FakeEngine(deny={"cancel_pending_order": "customers may act only on their own orders"})
    with _open(make_factory, issuer, verifier, "alice_1", "customer", engine=engine) as session:
        events = await _turn(session, "cancel #W2222222")
    kinds = [type(e) for e in events if not isinstance(e, TextDelta)]
    assert kinds == [ToolCallEvent, PolicyDenialEvent, ToolResultEvent, Final]
    call, denial, result = events[0], events[1], events[2]
    assert isinstance(call, ToolCallEvent)
    assert call.decision == "denied"
    assert isinstance(denial, PolicyDenialEvent)
    assert denial.source == "agent"
    assert denial.policy_ids == ("test-forbid",)
    assert denial.reason.startswith("Denied by policy:")
    assert "own orders" in denial.reason
    assert isinstance(result, ToolResultEvent)
    assert not result.ok
    assert not any(name == "cancel_pending_order" for _, name, _ in mcp_server.log.calls)
    final = events[-1]
    assert isinstance(final, Final)
    assert final.text.startswith("Sorry, I cannot do that: Denied by policy:")


async def test_identity_for_checks_is_the_sessions_principal(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier
) -> None:
    engine = FakeEngine()
    with _open(make_factory, issuer, verifier, "alice_1", "customer", engine=engine) as session:
        await _turn(session, "order #W1111111")
    assert [(user, tool) for user, tool, _, _ in engine.seen] == [("alice_1", "get_order_details")]
    facts = engine.seen[0][3]
    assert facts is not None
    assert facts.session_id == session.session_id


async def test_pre_check_is_the_portable_agent_point_without_resolved_facts(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier
) -> None:
    engine = FakeEngine()
    with _open(make_factory, issuer, verifier, "sam", "support_agent", engine=engine) as session:
        await _turn(session, "order #W1111111")
    assert engine.points == [("agent", True)]
    facts = engine.seen[0][3]
    assert facts is not None
    # The agent never learns owners itself: the server resolves them.
    assert (facts.resource_owner_id, facts.session_subject_id) == (None, None)


async def test_exchanged_token_carries_one_signed_session_per_conversation(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier, mcp_server: McpFixture
) -> None:
    before = len(mcp_server.log.sessions)
    with _open(make_factory, issuer, verifier, "alice_1", "customer") as session:
        await _turn(session, "order #W1111111")
        await _turn(session, "order #W2222222")
    seen = mcp_server.log.sessions[before:]
    assert len(seen) == 2
    assert seen[0] is not None and seen[0].startswith("conv:")
    assert seen[0] == seen[1]
    with _open(make_factory, issuer, verifier, "alice_1", "customer", exchange=False) as plain:
        await _turn(plain, "order #W1111111")
    assert mcp_server.log.sessions[-1] is None


async def test_server_side_denial_is_reported_as_a_denial_event(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier
) -> None:
    with _open(make_factory, issuer, verifier, "alice_1", "customer", engine=FakeEngine()) as session:
        events = await _turn(session, "order #W0000000")
    denials = [e for e in events if isinstance(e, PolicyDenialEvent)]
    assert len(denials) == 1
    assert denials[0].source == "server"
    assert denials[0].policy_ids == ("server-rule",)
    assert denials[0].reason == "Denied by policy: not your order"


async def test_conversation_continues_across_turns(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier
) -> None:
    with _open(make_factory, issuer, verifier, "alice_1", "customer") as session:
        first = await _turn(session, "hello")
        second = await _turn(session, "order #W1111111")
        assert first[-1] == Final("Hello! Ask me about an order.")
        assert second[-1] == Final("Order #W1111111 is pending.")
        assert len(session.history) == 6


def test_refused_token_is_a_tool_server_error(
    make_factory: Any, verifier: JwtVerifier, issuer: JwtIssuer
) -> None:
    principal = verifier.verify(issuer.issue("alice_1", ["customer"]))
    with pytest.raises(ToolServerError, match="tool server"):
        make_factory(exchange=False).open(principal, "forged.token.value", "s-bad")


def test_refused_exchanged_token_is_a_tool_server_error(
    make_factory: Any, verifier: JwtVerifier, issuer: JwtIssuer
) -> None:
    from bastion_policies import TokenExchanger

    principal = verifier.verify(issuer.issue("alice_1", ["customer"]))
    foreign = TokenExchanger(b"another-exchange-secret-0123456789abcdef")
    with pytest.raises(ToolServerError, match="tool server"):
        make_factory(token_exchange=foreign.exchange).open(principal, "unused", "s-bad")
