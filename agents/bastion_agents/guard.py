"""The agent-side policy hook: calls are pre-checked before they leave the agent.

The MCP server is the decision point for calls: it resolves the facts (who owns the resource, whose
records the session acts on) and makes the one decision that counts. The agent keeps binding (the
model is offered only the tools the server lists) and pre-checks each call locally with the portable
policies, which need no facts: a call no portable policy could allow never leaves the agent. It never
makes tool calls of its own to learn facts. The server's decision is read from the structured
``_meta["bastion/decision"]`` of each result, never from its text. Identity comes from the session's
principal, fixed when the session is opened, never from Strands' ``invocation_state`` (which a caller
can set on direct tool calls).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bastion_policies import Allow, Deny, EnforcementPoint, Principal, SessionFacts
from strands.hooks import AfterToolCallEvent, BeforeToolCallEvent, HookProvider, HookRegistry

from .events import ChatEvent, PolicyDenialEvent, ToolCallEvent

__all__ = [
    "DECISION_META_KEY",
    "DENIED_PREFIX",
    "PolicyChecker",
    "PolicyGuard",
    "ServerDecision",
    "server_decision",
]

logger = logging.getLogger(__name__)

DENIED_PREFIX = "Denied by policy:"
"""Every denial text given to the model starts with this (for the model; programs read ``_meta``)."""

DECISION_META_KEY = "bastion/decision"
"""Key of the MCP server's structured decision in a tool result's ``_meta`` (``bastion_mcp``'s)."""

_CHECK_FAILED = f"{DENIED_PREFIX} the policy check could not be completed. Do not retry; tell the user."


class PolicyChecker(Protocol):
    """What the hook needs from a policy engine (``bastion_policies.PolicyEngine`` fits)."""

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


@dataclass(frozen=True)
class ServerDecision:
    """The MCP server's decision on one call, from ``_meta["bastion/decision"]``.

    Attributes:
        outcome: ``allow``, ``deny``, ``invalid`` or ``fault``.
        policy_ids: Ids of the deciding policies.
        reasons: Why.
    """

    outcome: Literal["allow", "deny", "invalid", "fault"]
    policy_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


def server_decision(result: Mapping[str, Any]) -> ServerDecision | None:
    """Read the server's structured decision from a Strands MCP tool result (its ``metadata``).

    Returns:
        The decision, or None when the result carries none (e.g. a tool of another server).
    """
    metadata = result.get("metadata")
    raw = metadata.get(DECISION_META_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(raw, Mapping):
        return None
    outcome = raw.get("outcome")
    if outcome not in ("allow", "deny", "invalid", "fault"):
        return None
    ids = raw.get("policy_ids")
    reasons = raw.get("reasons")
    return ServerDecision(
        outcome,
        tuple(str(i) for i in ids) if isinstance(ids, list) else (),
        tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
    )


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
    """Strands hook: pre-checks each tool call before it leaves the agent, and records decisions.

    Before a call it evaluates the portable policies (enforcement point ``agent``); on
    :class:`~bastion_policies.Deny` (or a check that fails) it cancels the call with
    ``Denied by policy: <explanation>``, which the model receives as an error tool result. After a
    call it reads the MCP server's structured decision and records a server denial. Every call is
    recorded in ``log`` as a :class:`~bastion_agents.events.ToolCallEvent` (plus a
    :class:`~bastion_agents.events.PolicyDenialEvent` on denial).

    Args:
        principal: The session's principal (the only identity used).
        engine: The policy engine; None records calls as ``not_checked`` and pre-checks nothing
            (the server still decides).
        session_id: Recorded in the audit of the pre-check.
        log: Where calls are recorded.
    """

    def __init__(
        self,
        *,
        principal: Principal,
        engine: PolicyChecker | None,
        session_id: str,
        log: CallLog,
    ) -> None:
        self._principal = principal
        self._engine = engine
        self._session_id = session_id
        self._log = log

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        """Register the pre-check and the reading of the server's decision."""
        registry.add_callback(BeforeToolCallEvent, self._before_tool_call)
        registry.add_callback(AfterToolCallEvent, self._after_tool_call)

    async def _after_tool_call(self, event: AfterToolCallEvent) -> None:
        call_id = str(event.tool_use.get("toolUseId", ""))
        if call_id in self._log.denied:
            return
        decision = server_decision(event.result)  # pyright: ignore[reportArgumentType]
        if decision is None or decision.outcome != "deny":
            return
        name = str(event.tool_use.get("name", ""))
        reason = f"{DENIED_PREFIX} " + ("; ".join(decision.reasons) or "denied")
        self._log.denied.add(call_id)
        self._log.events.append(PolicyDenialEvent(name, reason, decision.policy_ids, call_id, "server"))

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
            facts = SessionFacts(session_id=self._session_id)
            decision = self._engine.check(
                self._principal, name, arguments, facts, point="agent", portable_only=True
            )
        except Exception:
            logger.warning("tool=<%s> | policy check failed; denying", name, exc_info=True)
            self._deny(event, name, call_id, arguments, _CHECK_FAILED, ())
            return
        if decision.allowed:
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
