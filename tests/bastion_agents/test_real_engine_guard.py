"""The agent-side hook with the real retail PolicyEngine (Cedar) and owner look-ups over MCP."""

from __future__ import annotations

from typing import Any

from _agents_testkit import McpFixture
from bastion_agents import RETAIL_OWNER_LOOKUPS, PolicyDenialEvent, ToolCallEvent
from bastion_policies import JwtIssuer, JwtVerifier, PolicyEngine


async def test_customer_reads_own_order_and_is_denied_another_customers(
    make_factory: Any, issuer: JwtIssuer, verifier: JwtVerifier, mcp_server: McpFixture
) -> None:
    factory = make_factory(engine=PolicyEngine.retail(), owner_lookups=RETAIL_OWNER_LOOKUPS)
    token = issuer.issue("alice_1", ["customer"])
    with factory.open(verifier.verify(token), token, "real-engine-alice") as session:
        own = [e async for e in session.ask("order #W1111111")]
        calls_before = len(mcp_server.log.calls)
        other = [e async for e in session.ask("cancel #W2222222")]
    own_call = next(e for e in own if isinstance(e, ToolCallEvent))
    assert own_call.decision == "allowed"
    other_call = next(e for e in other if isinstance(e, ToolCallEvent))
    assert other_call.decision == "denied"
    denial = next(e for e in other if isinstance(e, PolicyDenialEvent))
    assert "bastion-customer-own-orders" in denial.policy_ids
    # Only the owner look-up (get_order_details as alice) reached the server, never the cancel.
    assert [name for _, name, _ in mcp_server.log.calls[calls_before:]] == ["get_order_details"]
