"""Shared helpers for bastion_agents tests: an in-process MCP server, fake engines, a chat script.

The test MCP server stands in for the real one (bastion_mcp): it verifies the bearer token (a user JWT
or an exchanged token carrying a signed session id), lists tools per group, counts every ``tools/call``
request, records every call it runs with the session id it saw, and refuses ``get_order_details`` on
order ``#W0000000`` with a structured ``_meta["bastion/decision"]`` denial (a server-side denial). Given
a policy engine it decides every call itself, like the real server: it resolves the order's owner from
its own table (never by asking the agent) and returns the engine's decision in ``_meta``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import uvicorn
from bastion_policies import (
    Allow,
    Deny,
    EnforcementPoint,
    ExchangedTokenVerifier,
    Principal,
    SessionFacts,
    VerifiedAccess,
)
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent
from starlette.types import ASGIApp, Receive, Scope, Send

SECRET = b"agents-test-secret-0123456789abcdef"
GROUPS = ("customer", "support_agent")
DECISION_KEY = "bastion/decision"

TOOLS_BY_GROUP: dict[str, tuple[str, ...]] = {
    "customer": ("get_order_details", "get_user_details", "cancel_pending_order"),
    "support_agent": (
        "find_user_id_by_email",
        "get_order_details",
        "get_user_details",
        "cancel_pending_order",
    ),
}

ORDERS = {
    "#W1111111": {"order_id": "#W1111111", "user_id": "alice_1", "status": "pending"},
    "#W2222222": {"order_id": "#W2222222", "user_id": "bob_2", "status": "delivered"},
}


@dataclass
class ServerLog:
    """What the test MCP server saw."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(
        default_factory=list[tuple[str, str, dict[str, Any]]]
    )
    list_requests: list[str] = field(default_factory=list[str])
    call_requests: list[str] = field(default_factory=list[str])
    """Tool name of every ``tools/call`` request received (run or refused)."""
    sessions: list[str | None] = field(default_factory=list[str | None])
    """The verified session id (``sid``) of every ``tools/call`` request, None without one."""


class ServerEngine(Protocol):
    """The server-side decision (``bastion_policies.PolicyEngine`` fits)."""

    def check(
        self,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        facts: SessionFacts | None = None,
        *,
        point: EnforcementPoint = "server",
        portable_only: bool = False,
    ) -> Allow | Deny:
        """Decide one call."""
        ...


def _refusal(decision: Deny) -> CallToolResult:
    text = f"Denied by policy: {decision.explain()}"
    meta = {
        DECISION_KEY: {
            "outcome": "deny",
            "allowed": False,
            "policy_ids": list(decision.policy_ids),
            "reasons": list(decision.reasons),
        }
    }
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True, _meta=meta)


class _TestServer(MCPServer):
    def __init__(self, verifier: ExchangedTokenVerifier, log: ServerLog, engine: ServerEngine | None) -> None:
        super().__init__(name="agents-test", log_level="WARNING")
        self._verifier = verifier
        self._log = log
        self._engine = engine

        @self.tool(description="Find a user id by email.")
        def find_user_id_by_email(email: str) -> str:
            return "alice_1" if email == "alice@example.com" else "not found"

        @self.tool(description="Get a user's profile.")
        def get_user_details(user_id: str) -> str:
            return json.dumps({"user_id": user_id, "name": user_id.split("_")[0].title()})

        @self.tool(description="Get an order.")
        def get_order_details(order_id: str) -> str:
            return json.dumps(ORDERS.get(order_id, {"error": "unknown order"}))

        @self.tool(description="Cancel a pending order.")
        def cancel_pending_order(order_id: str, reason: str) -> str:
            order = dict(ORDERS[order_id])
            order["status"] = "cancelled"
            return json.dumps(order)

    def _access(self, ctx: Any) -> VerifiedAccess:
        header = ctx.request.headers.get("authorization", "")
        return self._verifier.verify(header.removeprefix("Bearer "))

    async def _handle_list_tools(self, ctx: Any, params: Any) -> Any:
        principal = self._access(ctx).principal
        self._log.list_requests.append(principal.user_id)
        result = await super()._handle_list_tools(ctx, params)
        allowed = {name for group in principal.groups for name in TOOLS_BY_GROUP.get(group, ())}
        result.tools = [tool for tool in result.tools if tool.name in allowed]
        return result

    async def _handle_call_tool(self, ctx: Any, params: Any) -> Any:
        access = self._access(ctx)
        principal = access.principal
        arguments = dict(params.arguments or {})
        self._log.call_requests.append(params.name)
        self._log.sessions.append(access.session_id)
        if params.name == "get_order_details" and arguments.get("order_id") == "#W0000000":
            reason = "not your order"
            return _refusal(Deny(tool=params.name, policy_ids=("server-rule",), reasons=(reason,)))
        if self._engine is not None:
            order = ORDERS.get(str(arguments.get("order_id", "")), {})
            owner = order.get("user_id") or arguments.get("user_id")
            facts = SessionFacts(session_id=access.session_id, resource_owner_id=owner)
            decision = self._engine.check(principal, params.name, arguments, facts, point="server")
            if isinstance(decision, Deny):
                return _refusal(decision)
        self._log.calls.append((principal.user_id, params.name, arguments))
        return await super()._handle_call_tool(ctx, params)


class _BearerGate:
    """Refuses HTTP requests without a valid bearer JWT (401), like the real server's auth layer."""

    def __init__(self, app: ASGIApp, verifier: ExchangedTokenVerifier) -> None:
        self._app = app
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            try:
                self._verifier.verify(headers.get("authorization", "").removeprefix("Bearer "))
            except Exception:
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await self._app(scope, receive, send)


@dataclass
class McpFixture:
    url: str
    log: ServerLog


@contextmanager
def run_mcp_server(
    verifier: ExchangedTokenVerifier, engine: ServerEngine | None = None
) -> Generator[McpFixture]:
    """Serve the test MCP server on 127.0.0.1 (a free port) in a background thread.

    Args:
        verifier: Verifies bearer tokens (user tokens and exchanged tokens).
        engine: Decides every call server-side when given (owners from ``ORDERS``).
    """
    log = ServerLog()
    server = _TestServer(verifier, log, engine)
    app = _BearerGate(server.streamable_http_app(), verifier)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY on accept
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield McpFixture(url=f"http://127.0.0.1:{port}/mcp", log=log)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


class FakeEngine:
    """Denies the tools named in ``deny`` (with the given reason), allows the rest; records every check."""

    def __init__(self, deny: Mapping[str, str] | None = None) -> None:
        self.deny = dict(deny or {})
        self.seen: list[tuple[str, str, dict[str, Any], SessionFacts | None]] = []
        self.points: list[tuple[str, bool]] = []

    def check(
        self,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any] | None,
        facts: SessionFacts | None = None,
        *,
        point: EnforcementPoint = "server",
        portable_only: bool = False,
    ) -> Allow | Deny:
        self.seen.append((principal.user_id, tool, dict(arguments or {}), facts))
        self.points.append((point, portable_only))
        if tool in self.deny:
            return Deny(tool=tool, policy_ids=("test-forbid",), reasons=(self.deny[tool],))
        return Allow(tool=tool, policy_ids=("test-permit",), reasons=("ok",))


CHAT_SCRIPT: dict[str, Any] = {
    "rules": [
        {
            "when": {"user_regex": r"order (?P<order_id>#W\d+)"},
            "call": {"name": "get_order_details", "arguments": {"order_id": "{{order_id}}"}},
        },
        {
            "when": {"user_regex": r"cancel (?P<order_id>#W\d+)"},
            "call": {
                "name": "cancel_pending_order",
                "arguments": {"order_id": "{{order_id}}", "reason": "no longer needed"},
            },
        },
        {"when": {"after_tool": "*", "tool_error": True}, "say": "Sorry, I cannot do that: {{tool_result}}"},
        {
            "when": {"after_tool": "get_order_details"},
            "say": "Order {{tool_result.order_id}} is {{tool_result.status}}.",
        },
        {"when": {"after_tool": "cancel_pending_order"}, "say": "Done: {{tool_result.status}}."},
        {"say": "Hello! Ask me about an order."},
    ]
}
