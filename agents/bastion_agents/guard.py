"""The agent-side policy hook: every tool call is checked before it leaves the agent.

Defence in depth: the MCP server re-checks every call, but a denied call should never be sent at all.
Identity comes from the session's principal, fixed when the session is opened, never from Strands'
``invocation_state`` (which a caller can set on direct tool calls).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bastion_policies import Allow, Deny, Principal, SessionFacts
from strands.hooks import BeforeToolCallEvent, HookProvider, HookRegistry

from .events import ChatEvent, PolicyDenialEvent, ToolCallEvent

__all__ = [
    "DENIED_PREFIX",
    "RETAIL_OWNER_LOOKUPS",
    "SESSION_HEADER",
    "OwnerLookup",
    "PolicyChecker",
    "PolicyGuard",
    "ToolCaller",
    "ToolOwnerLookup",
]

logger = logging.getLogger(__name__)

DENIED_PREFIX = "Denied by policy:"
"""Every denial given to the model starts with this (the MCP server uses the same prefix)."""

_CHECK_FAILED = f"{DENIED_PREFIX} the policy check could not be completed. Do not retry; tell the user."

SESSION_HEADER = "x-bastion-session-id"
"""Header naming the conversation on every MCP request, so the MCP server can apply per-session rules
(the same wire name as ``bastion_mcp.SESSION_HEADER``; protocol 2026-07-28 has no MCP session)."""

RETAIL_OWNER_LOOKUPS: Mapping[str, tuple[str, str]] = {"order_id": ("get_order_details", "user_id")}
"""For the retail tools: an ``order_id`` argument's owner is ``get_order_details(order_id).user_id``."""


class PolicyChecker(Protocol):
    """What the hook needs from a policy engine (``bastion_policies.PolicyEngine`` fits)."""

    def check(
        self,
        principal: Principal,
        tool: str,
        arguments: Mapping[str, Any],
        facts: SessionFacts | None = None,
    ) -> Allow | Deny:
        """Decide one call."""
        ...


class OwnerLookup(Protocol):
    """Finds the customer a call acts on (``SessionFacts.resource_owner_id``), or None if unknown."""

    async def owner_of(self, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """Return the owner's user id for this call, or None."""
        ...


class ToolCaller(Protocol):
    """Calls one tool on the session's MCP server as the session's principal."""

    async def __call__(self, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
        """Return (ok, result text)."""
        ...


class ToolOwnerLookup:
    """Resolve owners by calling a look-up tool through the session's own MCP connection.

    A ``user_id`` argument is its own owner. For an argument named in ``lookups`` (e.g. ``order_id``)
    the look-up tool is called *as the session's principal*, so the server's policy applies to it too
    (a customer cannot look up another customer's order, and then the owner stays unknown and the
    Bastion-only rules deny, failing closed). Results are cached for the session.

    Args:
        call: Calls a tool on the session's MCP server.
        lookups: Argument name → (look-up tool, field of its JSON result holding the owner's user id).
    """

    def __init__(self, call: ToolCaller, lookups: Mapping[str, tuple[str, str]]) -> None:
        self._call = call
        self._lookups = dict(lookups)
        self._cache: dict[tuple[str, str], str | None] = {}

    async def owner_of(self, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """Return the owner's user id for a call with these arguments, or None when unknown."""
        user_id = arguments.get("user_id")
        if isinstance(user_id, str) and user_id:
            return user_id
        for name, (lookup_tool, owner_field) in self._lookups.items():
            value = arguments.get(name)
            if not isinstance(value, str) or not value:
                continue
            key = (name, value)
            if key not in self._cache:
                self._cache[key] = await self._look_up(lookup_tool, name, value, owner_field)
            return self._cache[key]
        return None

    async def _look_up(self, tool: str, name: str, value: str, owner_field: str) -> str | None:
        try:
            ok, text = await self._call(tool, {name: value})
        except Exception:
            logger.warning("tool=<%s> | owner look-up failed", tool, exc_info=True)
            return None
        if not ok:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        owner = data.get(owner_field) if isinstance(data, dict) else None
        return owner if isinstance(owner, str) and owner else None


@dataclass
class CallLog:
    """What the hook recorded during one turn, drained by the session into its event stream.

    Attributes:
        events: Events not yet handed out, in order.
        tool_names: Tool name per tool-use id (tool results carry only the id).
        denied: Tool-use ids the hook refused.
    """

    events: list[ChatEvent] = field(default_factory=list[ChatEvent])
    tool_names: dict[str, str] = field(default_factory=dict[str, str])
    denied: set[str] = field(default_factory=set[str])

    def drain(self) -> list[ChatEvent]:
        """Return and forget the pending events."""
        pending, self.events = self.events, []
        return pending


class PolicyGuard(HookProvider):
    """Strands hook that checks each tool call with the session's principal before it runs.

    On :class:`~bastion_policies.Deny` (or a check that fails) it cancels the call with
    ``Denied by policy: <explanation>``, which the model receives as an error tool result. Every call
    is recorded in ``log`` as a :class:`~bastion_agents.events.ToolCallEvent` (plus a
    :class:`~bastion_agents.events.PolicyDenialEvent` on denial).

    Args:
        principal: The session's principal (the only identity used).
        engine: The policy engine; None records calls as ``not_checked`` and denies nothing.
        session_id: Recorded in the facts given to the engine.
        log: Where calls are recorded.
        owner_lookup: Supplies ``resource_owner_id``; None leaves it unknown.
    """

    def __init__(
        self,
        *,
        principal: Principal,
        engine: PolicyChecker | None,
        session_id: str,
        log: CallLog,
        owner_lookup: OwnerLookup | None = None,
    ) -> None:
        self._principal = principal
        self._engine = engine
        self._session_id = session_id
        self._log = log
        self._owners = owner_lookup
        self._session_customer: str | None = None

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        """Register the before-tool-call check."""
        registry.add_callback(BeforeToolCallEvent, self._before_tool_call)

    async def _before_tool_call(self, event: BeforeToolCallEvent) -> None:
        tool_use = event.tool_use
        name = str(tool_use.get("name", ""))
        call_id = str(tool_use.get("toolUseId", ""))
        raw = tool_use.get("input")
        arguments: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        self._log.tool_names[call_id] = name
        if self._engine is None:
            self._log.events.append(ToolCallEvent(name, arguments, "not_checked", call_id))
            return
        try:
            owner = await self._owners.owner_of(name, arguments) if self._owners is not None else None
            facts = SessionFacts(
                session_id=self._session_id,
                resource_owner_id=owner,
                session_customer_id=self._session_customer,
            )
            decision = self._engine.check(self._principal, name, arguments, facts)
        except Exception:
            logger.warning("tool=<%s> | policy check failed; denying", name, exc_info=True)
            self._deny(event, name, call_id, arguments, _CHECK_FAILED, ())
            return
        if decision.allowed:
            if decision.resource_owner_id is not None:
                self._session_customer = facts.acting_for(decision.resource_owner_id).session_customer_id
            self._log.events.append(ToolCallEvent(name, arguments, "allowed", call_id, decision.policy_ids))
            return
        reason = f"{DENIED_PREFIX} {decision.explain()}"
        logger.info("tool=<%s>, user=<%s> | call denied by agent-side policy", name, self._principal.user_id)
        self._deny(event, name, call_id, arguments, reason, decision.policy_ids)

    def _deny(
        self,
        event: BeforeToolCallEvent,
        name: str,
        call_id: str,
        arguments: dict[str, Any],
        reason: str,
        policy_ids: tuple[str, ...],
    ) -> None:
        event.cancel_tool = reason
        self._log.denied.add(call_id)
        self._log.events.append(ToolCallEvent(name, arguments, "denied", call_id, policy_ids))
        self._log.events.append(PolicyDenialEvent(name, reason, policy_ids, call_id, "agent"))
