"""Typed policy outcomes and the session facts a check may use."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["Allow", "Decision", "Deny", "SessionFacts"]


@dataclass(frozen=True)
class SessionFacts:
    """What Bastion knows about the session that AgentCore cannot see (``context.bastion``).

    Attributes:
        session_id: The session the call belongs to, from the verified token (or the MCP transport
            session); None when the call has none (rules that need one deny).
        resource_owner_id: The principal id owning the call's resource, as resolved by the MCP
            server (for self-owned resource kinds the engine reads the argument itself). None means
            unknown: rules that need it fail closed.
        session_subject_id: Whose records this session already acts on (pinned by the first
            allowed resource-scoped call), or None before that.
    """

    session_id: str | None = None
    resource_owner_id: str | None = None
    session_subject_id: str | None = None

    def acting_for(self, subject_id: str | None) -> SessionFacts:
        """Return these facts with ``session_subject_id`` pinned to ``subject_id`` (if unset).

        Call it after an allowed resource-scoped call (``decision.resource_owner_id``) so rules such
        as "one subject per session" apply to the next calls.
        """
        if self.session_subject_id is not None or subject_id is None:
            return self
        return replace(self, session_subject_id=subject_id)


@dataclass(frozen=True)
class _DecisionBase:
    tool: str
    policy_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    resource_owner_id: str | None = None
    """The owner of the record the call was evaluated as acting on, when known."""


@dataclass(frozen=True)
class Allow(_DecisionBase):
    """The call (or tool, at bind time) is permitted.

    Attributes:
        tool: Tool name.
        policy_ids: ``@id`` of each permit policy that matched.
        reasons: ``@reason`` of those policies, in the same order.
        resource_owner_id: The owner of the record the call acts on, when known.
    """

    kind: Literal["allow"] = "allow"

    @property
    def allowed(self) -> Literal[True]:
        """Always True."""
        return True

    def explain(self) -> str:
        """One short human line, e.g. ``allow read_profile: members may read their profile [own-profile]``."""
        why = "; ".join(self.reasons) or "permitted"
        return f"allow {self.tool}: {why} [{', '.join(self.policy_ids)}]"


@dataclass(frozen=True)
class Deny(_DecisionBase):
    """The call (or tool, at bind time) is refused.

    Attributes:
        tool: Tool name.
        policy_ids: ``@id`` of each forbid policy that matched (empty when nothing permitted it).
        reasons: Why, in words an end user or a model can act on.
        resource_owner_id: The owner of the record the call acts on, when known.
    """

    kind: Literal["deny"] = "deny"

    @property
    def allowed(self) -> Literal[False]:
        """Always False."""
        return False

    def explain(self) -> str:
        """One short human line, e.g. ``deny search: no policy permits member to call search``."""
        why = "; ".join(self.reasons) or "denied"
        ids = f" [{', '.join(self.policy_ids)}]" if self.policy_ids else ""
        return f"deny {self.tool}: {why}{ids}"


Decision = Allow | Deny
"""A policy outcome: :class:`Allow` or :class:`Deny`."""
