"""``bastion demo``: the retail deployment end to end, printed as a readable transcript.

What the demo proves does not hang on a small model's choices: the tool lists bound per principal are
read from the MCP server itself, the cross-customer denial is also shown by a direct MCP call with the
customer's token, and if the model does not make the write, the demo makes it as the support agent.
Every line says who acted: ``[model]`` for calls the model chose, ``[demo]`` for calls the demo made.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import typer
from bastion_legacy import LegacyStore
from bastion_policies import Principal

from bastion.chat_client import ChatClientError, stream_chat
from bastion.domain import Domain
from bastion.mcp_client import connect, result_text
from bastion.models import ModelUnavailable, resolve_model
from bastion.servers import ServerStartError
from bastion.settings import Settings
from bastion.stack import Stack
from bastion_retail._standin import RetailStandin

__all__ = ["DemoCast", "pick_cast", "run_demo"]

_RULE = "─" * 78


@dataclass(frozen=True)
class DemoCast:
    """The real records from db.json the demo talks about.

    Attributes:
        customer_id: A customer who has a pending order.
        customer_email: Their e-mail (the support agent authenticates them with it).
        pending_order_id: That customer's pending order (checked, then cancelled).
        other_order_id: An order of another customer (the cross-customer request).
    """

    customer_id: str
    customer_email: str
    pending_order_id: str
    other_order_id: str


def pick_cast(db: Mapping[str, Any]) -> DemoCast:
    """Choose the demo's customer and orders deterministically from the database.

    Args:
        db: The legacy database export (db.json's shape).

    Returns:
        The first customer (by user id) with a ``pending`` order, and the first order of another user.

    Raises:
        LookupError: The database has no pending order.
    """
    orders: Mapping[str, Mapping[str, Any]] = db["orders"]
    users: Mapping[str, Mapping[str, Any]] = db["users"]
    pending = sorted((o["user_id"], o["order_id"]) for o in orders.values() if o.get("status") == "pending")
    if not pending:
        raise LookupError("no pending order in the database; run `bastion demo` without --keep-state")
    customer_id, order_id = pending[0]
    other = min(o["order_id"] for o in orders.values() if o["user_id"] != customer_id)
    return DemoCast(customer_id, users[customer_id]["email"], order_id, other)


class _Transcript:
    def section(self, title: str) -> None:
        typer.echo("\n" + _RULE)
        typer.secho(title, bold=True)
        typer.echo(_RULE)

    def line(self, text: str, color: str | None = None) -> None:
        typer.secho(text, fg=color)


def run_demo(settings: Settings, domain: Domain, *, model_spec: str, reset: bool = True) -> int:
    """Run the demo; returns the process exit code (0 when every check shown held).

    Args:
        settings: Base settings; the demo keeps its own state under ``<state_dir>/../demo``.
        domain: The retail domain.
        model_spec: Which model the chat endpoint uses (falls back to the scripted demo model, with a
            one-line hint, when the embedded model is not installed).
        reset: Start from the db.json seed.
    """
    out = _Transcript()
    demo_settings = settings.model_copy(update={"state_dir": settings.state_dir.parent / "demo"})
    compact = model_spec.strip() == "local"
    try:
        model, model_label = resolve_model(demo_settings, model_spec)
    except ModelUnavailable as exc:
        compact = False
        typer.secho(str(exc), fg=typer.colors.YELLOW)
        script = resources.files("bastion_retail").joinpath("data").joinpath("demo_script.json")
        with resources.as_file(script) as path:
            model, model_label = resolve_model(demo_settings, "scripted:" + str(Path(path)))
        model_label += " (fallback: scripted plumbing demo, no real model)"
    try:
        stack = Stack(demo_settings, domain, model=model, ephemeral_ports=True, compact_prompt=compact)
    except ServerStartError as exc:
        typer.secho("error: %s" % exc, err=True, fg=typer.colors.RED)
        return 1
    if reset and stack.standin is not None:
        stack.standin.reset()
    with stack:
        try:
            return _play(stack, out, model_label)
        except LookupError as exc:  # e.g. --keep-state after every pending order was cancelled
            typer.secho("error: %s" % exc, err=True, fg=typer.colors.RED)
            return 1


def _store(stack: Stack) -> Any:
    standin = stack.standin
    if not isinstance(standin, RetailStandin):
        raise LookupError("the demo needs the retail stand-in; unset BASTION_LEGACY_URL")
    return standin.store


def _play(stack: Stack, out: _Transcript, model_label: str) -> int:
    store = _store(stack)
    cast = pick_cast(store.export())
    out.section("Bastion demo — retail customer service (tau2-bench retail data)")
    out.line("legacy API  %s   (OAuth2 client credentials, verbose JSON, SQLite)" % stack.urls.legacy)
    out.line("MCP server  %s   (bearer JWT, policy-bound tools/list, every call re-checked)" % stack.urls.mcp)
    out.line("chat        %s/v1/chat   model: %s" % (stack.urls.chat, model_label))
    out.line("audit log   %s" % stack.audit.path)

    tokens = {
        "customer": stack.issuer.issue(cast.customer_id, ["customer"]),
        "support_agent": stack.issuer.issue("agent_ada", ["support_agent"]),
        "support_readonly": stack.issuer.issue("viewer_vic", ["support_readonly"]),
    }
    out.section("1. Tools bound per principal (read from the MCP server with each user's token)")
    bound = asyncio.run(_bound_tools(stack.urls.mcp, tokens))
    everything = sorted(set().union(*bound.values()))
    for group, names in bound.items():
        user = cast.customer_id if group == "customer" else "(staff)"
        out.line("%-17s %-22s %2d tools: %s" % (group, user, len(names), ", ".join(sorted(names))))
        missing = [n for n in everything if n not in names]
        if missing:
            out.line("%40s not bound: %s" % ("", ", ".join(missing)), "yellow")

    out.section("2. Customer %s chats (JWT group: customer)" % cast.customer_id)
    first = "Hi! What is the status of my order %s?" % cast.pending_order_id
    session = _chat(stack, out, tokens["customer"], first)
    second = "Also show me the details of order %s please." % cast.other_order_id
    _chat(stack, out, tokens["customer"], second, session)
    out.line(
        "\n[demo] direct MCP call with the customer's token: get_order_details(%s)" % cast.other_order_id
    )
    denied = asyncio.run(
        _call(stack.urls.mcp, tokens["customer"], "get_order_details", {"order_id": cast.other_order_id})
    )
    out.line("  → " + denied[1], "red" if denied[0] else "green")
    ok = denied[0] and denied[1].startswith("Denied by policy:")

    out.section("3. Support agent agent_ada chats (JWT group: support_agent)")
    before = _order_status(store, cast.pending_order_id)
    out.line("legacy DB before: order %s status = %r" % (cast.pending_order_id, before))
    _chat(
        stack,
        out,
        tokens["support_agent"],
        "I'm helping the customer whose email is %s and who wants to cancel order %s because it is "
        "no longer needed. The customer confirmed: yes." % (cast.customer_email, cast.pending_order_id),
    )
    after = _order_status(store, cast.pending_order_id)
    if after != "cancelled":
        out.line(
            "\n[demo] the model did not cancel; the demo calls cancel_pending_order as the support agent"
        )
        result = asyncio.run(
            _call(
                stack.urls.mcp,
                stack.mcp_token(Principal("agent_ada", ("support_agent",)), "demo-direct-cancel"),
                "cancel_pending_order",
                {"order_id": cast.pending_order_id, "reason": "no longer needed"},
            )
        )
        out.line("  → " + result[1][:200], "red" if result[0] else "green")
        after = _order_status(store, cast.pending_order_id)
    out.line(
        "legacy DB after:  order %s status = %r" % (cast.pending_order_id, after),
        "green" if after == "cancelled" else "red",
    )
    ok = ok and after == "cancelled"

    out.section("Summary")
    out.line(
        "binding differs per group: %s" % ("yes" if len({frozenset(v) for v in bound.values()}) > 1 else "NO")
    )
    out.line("cross-customer request denied by policy: %s" % ("yes" if denied[0] else "NO"))
    out.line("write visible in the legacy database: %s" % ("yes" if after == "cancelled" else "NO"))
    return 0 if ok else 1


def _chat(
    stack: Stack, out: _Transcript, token: str, message: str, session_id: str | None = None
) -> str | None:
    """Send one message through the chat endpoint, print its events; returns the session id."""
    assert stack.urls.chat is not None
    out.line("\nuser> " + message, "blue")
    started = time.monotonic()
    text: list[str] = []
    try:
        for event in stream_chat(stack.urls.chat, token, message, session_id):
            data = event.data
            if event.event == "session":
                session_id = str(data.get("session_id"))
                out.line(
                    "  session %s · %d tools bound" % (data.get("session_id"), len(data.get("tools", [])))
                )
            elif event.event == "tool_call":
                verdict = {"allowed": "ALLOW", "denied": "DENY"}.get(str(data.get("decision")), "not checked")
                ids = ",".join(str(i) for i in data.get("policy_ids", []))
                arguments = json.dumps(data.get("arguments"), ensure_ascii=False)
                out.line(
                    "  [model] %s(%s)  policy: %s %s" % (data.get("tool"), arguments, verdict, ids), "cyan"
                )
            elif event.event == "tool_result":
                preview = str(data.get("content_preview", ""))[:160]
                out.line("          → %s %s" % ("ok" if data.get("ok") else "error:", preview))
            elif event.event == "policy_denial":
                out.line("          → %s side: %s" % (data.get("source"), data.get("reason")), "red")
            elif event.event == "text":
                text.append(str(data.get("text", "")))
            elif event.event == "error":
                out.line("  [error] %s" % data.get("message"), "red")
    except ChatClientError as exc:
        out.line("  [error] %s" % exc, "red")
    reply = "".join(text).strip()
    out.line("agent> %s" % (reply or "(no text)"))
    out.line("  (%.1f s)" % (time.monotonic() - started))
    return session_id


async def _bound_tools(url: str, tokens: dict[str, str]) -> dict[str, list[str]]:
    bound: dict[str, list[str]] = {}
    for group, token in tokens.items():
        async with connect(url, token) as client:
            listed = await client.list_tools()
            bound[group] = [tool.name for tool in listed.tools]
    return bound


async def _call(url: str, token: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    async with connect(url, token) as client:
        result = await client.call_tool(tool, arguments)
        return bool(result.is_error), result_text(result)


def _order_status(store: LegacyStore, order_id: str) -> str | None:
    order = store.export()["orders"].get(order_id)
    return None if order is None else str(order.get("status"))
