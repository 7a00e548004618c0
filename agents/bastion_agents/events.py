"""Typed events of one agent turn, for transcripts and the SSE endpoints.

An :class:`~bastion_agents.factory.AgentSession` yields these while it answers a message. Each event
has a ``kind`` (the SSE event name) and :meth:`to_wire` (the JSON payload, a TypedDict). For every tool
call the order is: :class:`ToolCallEvent`, then :class:`PolicyDenialEvent` if policy denied it (on the
agent side before the call, or on the MCP server), then :class:`ToolResultEvent`; the turn ends with
one :class:`Final`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypedDict

__all__ = [
    "ChatEvent",
    "Decision",
    "DenialSource",
    "Final",
    "PolicyDenialEvent",
    "TextDelta",
    "ToolCallEvent",
    "ToolResultEvent",
]

Decision = Literal["allowed", "denied", "not_checked"]
"""Outcome of the agent-side policy check for one tool call (``not_checked`` when no engine is set)."""

DenialSource = Literal["agent", "server"]
"""Where a denial happened: the agent-side hook (call never sent) or the MCP server's re-check."""


class TextDeltaWire(TypedDict):
    """Wire form of :class:`TextDelta`."""

    text: str


class ToolCallWire(TypedDict):
    """Wire form of :class:`ToolCallEvent`."""

    call_id: str
    tool: str
    arguments: dict[str, Any]
    decision: Decision
    policy_ids: list[str]


class ToolResultWire(TypedDict):
    """Wire form of :class:`ToolResultEvent`."""

    call_id: str
    tool: str
    ok: bool
    content_preview: str


class PolicyDenialWire(TypedDict):
    """Wire form of :class:`PolicyDenialEvent`."""

    call_id: str
    tool: str
    reason: str
    policy_ids: list[str]
    source: DenialSource


class FinalWire(TypedDict):
    """Wire form of :class:`Final`."""

    text: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A fragment of the assistant's reply text, in order.

    Attributes:
        text: The fragment (not necessarily a whole word).
    """

    kind: ClassVar[str] = "text"
    text: str

    def to_wire(self) -> TextDeltaWire:
        """Return the JSON payload of this event."""
        return {"text": self.text}


@dataclass(frozen=True, slots=True)
class ToolCallEvent:
    """The model asked for a tool call; ``decision`` is the agent-side policy outcome.

    Attributes:
        tool: Tool name as bound from the MCP server.
        arguments: Arguments the model chose (a JSON object).
        decision: ``allowed``/``denied`` by the agent-side check, ``not_checked`` without an engine.
        call_id: The model's tool-use id; pairs this event with its denial and result.
        policy_ids: Ids of the policies behind the decision (may be empty).
    """

    kind: ClassVar[str] = "tool_call"
    tool: str
    arguments: dict[str, Any]
    decision: Decision
    call_id: str = ""
    policy_ids: tuple[str, ...] = field(default=())

    def to_wire(self) -> ToolCallWire:
        """Return the JSON payload of this event."""
        return {
            "call_id": self.call_id,
            "tool": self.tool,
            "arguments": self.arguments,
            "decision": self.decision,
            "policy_ids": list(self.policy_ids),
        }


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """A tool call finished (or was refused); ``content_preview`` is its text, shortened.

    Attributes:
        tool: Tool name.
        ok: False for an error result, a denial included.
        content_preview: The result text cut to the session's preview length.
        call_id: The model's tool-use id.
    """

    kind: ClassVar[str] = "tool_result"
    tool: str
    ok: bool
    content_preview: str
    call_id: str = ""

    def to_wire(self) -> ToolResultWire:
        """Return the JSON payload of this event."""
        return {
            "call_id": self.call_id,
            "tool": self.tool,
            "ok": self.ok,
            "content_preview": self.content_preview,
        }


@dataclass(frozen=True, slots=True)
class PolicyDenialEvent:
    """Policy refused a tool call.

    Attributes:
        tool: Tool name.
        reason: The denial text given to the model (starts with ``Denied by policy:``).
        policy_ids: Ids of the policies that decided it (empty when the server did not say).
        call_id: The model's tool-use id.
        source: ``agent`` (the call never left the agent) or ``server`` (the MCP server refused it).
    """

    kind: ClassVar[str] = "policy_denial"
    tool: str
    reason: str
    policy_ids: tuple[str, ...] = field(default=())
    call_id: str = ""
    source: DenialSource = "agent"

    def to_wire(self) -> PolicyDenialWire:
        """Return the JSON payload of this event."""
        return {
            "call_id": self.call_id,
            "tool": self.tool,
            "reason": self.reason,
            "policy_ids": list(self.policy_ids),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Final:
    """The turn is over; ``text`` is the assistant's complete last reply.

    Attributes:
        text: The reply text (the concatenation of the last reply's :class:`TextDelta` fragments).
    """

    kind: ClassVar[str] = "done"
    text: str

    def to_wire(self) -> FinalWire:
        """Return the JSON payload of this event."""
        return {"text": self.text}


ChatEvent = TextDelta | ToolCallEvent | ToolResultEvent | PolicyDenialEvent | Final
"""Any event an :class:`~bastion_agents.factory.AgentSession` yields."""
