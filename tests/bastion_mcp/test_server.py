"""The retail MCP server: authentication, per-principal tool lists, per-call policy checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import httpx2
from bastion_facades import LegacyClient, RetailFacade
from bastion_legacy import LegacyStore
from bastion_mcp import create_retail_server
from bastion_policies import AuditLog, JwtIssuer, JwtVerifier, PolicyEngine
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import TextContent

CUSTOMER = "yusuf_rossi_9620"
OWN_ORDER = "#W6247578"  # pending
OTHER_ORDER = "#W2611340"  # james_li_5688's
MCP_URL = "http://127.0.0.1:8102/mcp"
SECRET = b"test-secret-0123456789abcdef0123"
Connect = Callable[..., AbstractAsyncContextManager[Client]]


def audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _text(result: object) -> str:
    return "".join(b.text for b in result.content if isinstance(b, TextContent))  # type: ignore[attr-defined]


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
    connect: Connect, issuer: JwtIssuer, audit_path: Path
) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        own = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not own.is_error
    assert json.loads(_text(own))["order_id"] == OWN_ORDER
    assert other.is_error
    assert _text(other).startswith("Denied by policy:")
    assert "james_li_5688" not in _text(other)  # no leak of the other customer's data
    denied = [
        line for line in audit_lines(audit_path) if line["kind"] == "check" and line["decision"] == "deny"
    ]
    assert denied and denied[-1]["tool"] == "get_order_details"


async def test_customer_cannot_read_another_profile(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        result = await client.call_tool("get_user_details", {"user_id": "james_li_5688"})
    assert result.is_error and _text(result).startswith("Denied by policy:")


async def test_unbound_tool_is_denied_even_if_called_directly(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue(CUSTOMER, ["customer"])) as client:
        result = await client.call_tool("find_user_id_by_email", {"email": "x@example.com"})
    assert result.is_error and _text(result).startswith("Denied by policy:")


async def test_readonly_cannot_write_and_nothing_changes(
    connect: Connect, issuer: JwtIssuer, store: LegacyStore
) -> None:
    async with connect(issuer.issue("viewer_1", ["support_readonly"])) as client:
        result = await client.call_tool(
            "cancel_pending_order", {"order_id": OWN_ORDER, "reason": "no longer needed"}
        )
    assert result.is_error and _text(result).startswith("Denied by policy:")
    assert store.export()["orders"][OWN_ORDER]["status"] == "pending"


async def test_support_agent_write_lands_in_legacy_db(
    connect: Connect, issuer: JwtIssuer, store: LegacyStore
) -> None:
    async with connect(issuer.issue("agent_1", ["support_agent"])) as client:
        result = await client.call_tool(
            "cancel_pending_order", {"order_id": OWN_ORDER, "reason": "no longer needed"}
        )
    assert not result.is_error, _text(result)
    assert store.export()["orders"][OWN_ORDER]["status"] == "cancelled"


async def test_support_agent_acts_for_one_customer_per_session(connect: Connect, issuer: JwtIssuer) -> None:
    token = issuer.issue("agent_1", ["support_agent"])
    async with connect(token, session="conversation-1") as client:
        first = await client.call_tool("get_order_details", {"order_id": OWN_ORDER})
    async with connect(token, session="conversation-1") as client:
        second = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not first.is_error
    assert second.is_error and _text(second).startswith("Denied by policy:")
    async with connect(token, session="conversation-2") as client:
        fresh = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not fresh.is_error


async def test_schema_violation_gets_actionable_message(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue("agent_1", ["support_agent"])) as client:
        result = await client.call_tool("get_order_details", {"order": OWN_ORDER})
    assert result.is_error
    assert "Invalid arguments for get_order_details" in _text(result)
    assert "order_id" in _text(result)


async def test_business_error_is_short_and_actionable(connect: Connect, issuer: JwtIssuer) -> None:
    async with connect(issuer.issue("agent_1", ["support_agent"])) as client:
        result = await client.call_tool("find_user_id_by_email", {"email": "nobody@example.com"})
    assert result.is_error
    assert "User not found" in _text(result)
    assert "Traceback" not in _text(result)


async def test_forged_token_is_rejected_before_mcp(connect: Connect, server: object) -> None:
    forged = JwtIssuer(b"another-secret-0123456789abcdef!").issue(CUSTOMER, ["supervisor"])
    app = server.streamable_http_app(host="127.0.0.1")  # type: ignore[attr-defined]
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        response = await http.post(
            MCP_URL,
            headers={"Authorization": "Bearer " + forged, "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        )
    assert response.status_code == 401
    assert forged not in response.text


async def test_missing_token_gets_401(connect: Connect, server: object) -> None:
    app = server.streamable_http_app(host="127.0.0.1")  # type: ignore[attr-defined]
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        response = await http.post(
            MCP_URL,
            headers={"Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        )
    assert response.status_code == 401


async def test_legacy_outage_gives_a_short_message(tmp_path: Path, issuer: JwtIssuer) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused to 10.0.0.7:8443", request=request)

    client = LegacyClient("http://legacy.test", "facade", "s3cret", transport=httpx.MockTransport(down))
    engine = PolicyEngine.retail(audit=AuditLog(tmp_path / "audit.jsonl"))
    server = create_retail_server(RetailFacade(client), engine, JwtVerifier(SECRET), resource_url=MCP_URL)
    app = server.streamable_http_app(host="127.0.0.1")
    headers = {"Authorization": "Bearer " + issuer.issue("agent_1", ["support_agent"])}
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), headers=headers)
    async with (
        server.session_manager.run(),
        http,
        Client(streamable_http_client(MCP_URL, http_client=http)) as mcp,
    ):
        result = await mcp.call_tool("find_user_id_by_email", {"email": "a@example.com"})
    assert result.is_error
    text = _text(result)
    assert "cannot be reached" in text and "transfer to a human agent" in text
    assert "10.0.0.7" not in text and "Traceback" not in text


async def test_a_profile_look_up_also_pins_the_support_session_to_that_customer(
    connect: Connect, issuer: JwtIssuer
) -> None:
    token = issuer.issue("agent_1", ["support_agent"])
    async with connect(token, session="conversation-3") as client:
        profile = await client.call_tool("get_user_details", {"user_id": CUSTOMER})
        other = await client.call_tool("get_order_details", {"order_id": OTHER_ORDER})
    assert not profile.is_error
    assert other.is_error and _text(other).startswith("Denied by policy:")
