"""The retail MCP server: authentication, per-principal tool lists, per-call policy checks."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from _mcp_testkit import MCP_URL, Audit, Connect, principal
from bastion_mcp import DECISION_META_KEY, PolicyBoundServer
from bastion_policies import JwtIssuer, TokenExchanger
from bastion_retail import RetailStandin
from mcp_types import CallToolResult, TextContent

CUSTOMER = "yusuf_rossi_9620"
OWN_ORDER = "#W6247578"  # pending
OTHER_ORDER = "#W2611340"  # james_li_5688's
AGENT = principal("agent_1", "support_agent")


def text(result: CallToolResult) -> str:
    return "".join(b.text for b in result.content if isinstance(b, TextContent))


def decision(result: CallToolResult) -> dict[str, Any]:
    meta = result.meta or {}
    value = meta[DECISION_META_KEY]
    assert isinstance(value, dict)
    return value  # pyright: ignore[reportUnknownVariableType]


async def test_tool_list_depends_on_the_callers_group(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        customer_tools = {t.name for t in (await client.list_tools()).tools}
    async with connect(issuer.issue("agent_1", ["support_agent"])) as client:
        agent_tools = {t.name for t in (await client.list_tools()).tools}
    async with connect(issuer.issue("viewer_1", ["support_readonly"])) as client:
        readonly_tools = {t.name for t in (await client.list_tools()).tools}
    assert len(agent_tools) == 16
    assert "find_user_id_by_email" not in customer_tools
    assert {"get_order_details", "cancel_pending_order", "get_user_details"} <= customer_tools
    assert "cancel_pending_order" not in readonly_tools
    assert "find_user_id_by_email" in readonly_tools


async def test_a_listing_is_audited_once_as_a_list_record(
    connect: Connect, issuer: JwtIssuer, audit: Audit
) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        mark = audit.mark()
        listed = {t.name for t in (await client.list_tools()).tools}
    records = audit.since(mark)
    assert [r["event"] for r in records] == ["list"]
    assert set(records[0]["tools_allowed"]) == listed
    assert "find_user_id_by_email" in records[0]["tools_denied"]


async def test_tools_carry_schema_and_annotations(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue("agent_1", ["support_agent"])) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    cancel = tools["cancel_pending_order"]
    assert set(cancel.input_schema["required"]) == {"order_id", "reason"}
    assert cancel.annotations is not None
    assert cancel.annotations.read_only_hint is False
    assert cancel.annotations.destructive_hint is True
    assert tools["get_order_details"].annotations.read_only_hint is True  # type: ignore[union-attr]


async def test_customer_reads_own_order_but_not_anothers(
    connect: Connect, issuer: JwtIssuer, audit: Audit
) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        own = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not own.is_error
    assert json.loads(text(own))["order_id"] == OWN_ORDER
    assert other.is_error
    assert text(other).startswith("Denied by policy:")
    assert "james_li_5688" not in text(other)  # no leak of the other customer's data
    denied = [r for r in audit.records() if r["event"] == "decision" and r["decision"] == "deny"]
    assert denied and denied[-1]["tool"] == "get_order_details"
    assert denied[-1]["point"] == "server"
    assert OTHER_ORDER not in json.dumps(denied[-1])  # arguments are digested, never written raw


async def test_structured_decision_in_meta_on_allow_and_deny(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        own = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    allowed, denied = decision(own), decision(other)
    assert allowed["outcome"] == "allow" and allowed["allowed"] is True
    assert allowed["policy_ids"]  # the permit that allowed it
    assert denied["outcome"] == "deny" and denied["allowed"] is False
    assert denied["policy_ids"] and denied["reasons"]
    assert all(reason in text(other) for reason in denied["reasons"])


async def test_customer_cannot_read_another_profile(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        result = await client.call_tool("get_user_details", {"user_id": "james_li_5688"})
    assert result.is_error and text(result).startswith("Denied by policy:")
    assert decision(result)["outcome"] == "deny"


async def test_readonly_cannot_write_and_nothing_changes(
    connect: Connect, issuer: JwtIssuer, standin: RetailStandin
) -> None:
    async with connect(issuer.issue("viewer_1", ["support_readonly"])) as client:
        result = await client.call_tool(
            "cancel_pending_order", {"order_id": OWN_ORDER, "reason": "no longer needed"}
        )
    assert result.is_error
    assert standin.store.export()["orders"][OWN_ORDER]["status"] == "pending"


async def test_support_agent_write_lands_in_legacy_db(
    connect: Connect, exchanger: TokenExchanger, standin: RetailStandin
) -> None:
    async with connect(exchanger.exchange(AGENT, "conversation-w")) as client:
        result = await client.call_tool(
            "cancel_pending_order", {"order_id": OWN_ORDER, "reason": "no longer needed"}
        )
    assert not result.is_error, text(result)
    assert standin.store.export()["orders"][OWN_ORDER]["status"] == "cancelled"


async def test_support_agent_acts_for_one_customer_per_conversation(
    connect: Connect, exchanger: TokenExchanger
) -> None:
    async with connect(exchanger.exchange(AGENT, "conversation-1")) as client:
        first = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
    async with connect(exchanger.exchange(AGENT, "conversation-1")) as client:
        second = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not first.is_error, text(first)
    assert second.is_error and text(second).startswith("Denied by policy:")
    async with connect(exchanger.exchange(AGENT, "conversation-2")) as client:
        fresh = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not fresh.is_error, text(fresh)


async def test_support_agent_with_own_token_acts_for_one_customer_per_transport_session(
    connect: Connect, issuer: JwtIssuer
) -> None:
    token = issuer.issue("agent_1", ["support_agent"])
    async with connect(token, legacy=True) as client:
        first = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        second = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not first.is_error, text(first)
    assert second.is_error and decision(second)["outcome"] == "deny"
    async with connect(token, legacy=True) as client:  # a new MCP session serves a new customer
        fresh = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not fresh.is_error, text(fresh)


async def test_a_profile_look_up_also_pins_the_support_session_to_that_customer(
    connect: Connect, exchanger: TokenExchanger
) -> None:
    async with connect(exchanger.exchange(AGENT, "conversation-3")) as client:
        profile = await client.call_tool("get_user_details", {"user_id": CUSTOMER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not profile.is_error, text(profile)
    assert other.is_error and text(other).startswith("Denied by policy:")


async def test_schema_violation_gets_actionable_message(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue("agent_1", ["support_agent"])) as client:
        result = await client.call_tool("get_order_details", {"order": OWN_ORDER})
    assert result.is_error
    assert "Invalid arguments for get_order_details" in text(result)
    assert "order_id" in text(result)
    assert decision(result)["outcome"] == "invalid"


async def test_business_error_is_short_and_actionable(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue("agent_1", ["support_agent"])) as client:
        result = await client.call_tool("find_user_id_by_email", {"email": "nobody@example.com"})
    assert result.is_error
    assert "User not found" in text(result)
    assert "Traceback" not in text(result)
    assert decision(result)["outcome"] == "allow"  # allowed by policy; the back end said no


async def test_forged_token_is_rejected_before_mcp(server: PolicyBoundServer) -> None:
    forged = JwtIssuer(b"another-secret-0123456789abcdef!").issue(CUSTOMER, ["supervisor"])
    app = server.streamable_http_app(host="127.0.0.1")
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        response = await http.post(
            MCP_URL,
            headers={"Authorization": "Bearer " + forged, "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        )
    assert response.status_code == 401
    assert forged not in response.text


async def test_missing_token_gets_401(server: PolicyBoundServer) -> None:
    app = server.streamable_http_app(host="127.0.0.1")
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        response = await http.post(
            MCP_URL,
            headers={"Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        )
    assert response.status_code == 401
