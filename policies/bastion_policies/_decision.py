"""Typed policy outcomes and the session facts a check may use."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["Allow", "Decision", "Deny", "SessionFacts"]


@dataclass(frozen=True)
class SessionFacts:
    """What Bastion knows about the session that AgentCore cannot see (``context.bastion``).

    Attributes:
        session_id: The chat/MCP session id (recorded in the audit log).
        resource_owner_id: The user id of the customer owning the call's resource, when the caller
            looked it up (e.g. the order's ``user_id`` for order-scoped tools). For user-scoped
            tools the engine uses the ``user_id`` argument itself. None means unknown: rules that need
            it fail closed.
        session_customer_id: The customer this session already acts for, or None before the first
            customer-scoped call.
    """

    session_id: str | None = None
    resource_owner_id: str | None = None
    session_customer_id: str | None = None

    def acting_for(self, customer_id: str | None) -> SessionFacts:
        """Return these facts with ``session_customer_id`` pinned to ``customer_id`` (if unset).

        Call it after an allowed customer-scoped call (``decision.resource_owner_id``) so the
        one-customer-per-session rule applies to the next calls.
        """
        if self.session_customer_id is not None or customer_id is None:
            return self
        return replace(self, session_customer_id=customer_id)


@dataclass(frozen=True)
class _DecisionBase:
    tool: str
    policy_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    resource_owner_id: str | None = None
    """The customer the call was evaluated as acting on, when known."""


@dataclass(frozen=True)
class Allow(_DecisionBase):
    """The call (or tool, at bind time) is permitted.

    Attributes:
        tool: Tool name.
        policy_ids: ``@id`` of each permit policy that matched.
        reasons: ``@reason`` of those policies, in the same order.
        resource_owner_id: The customer the call acts on, when known.
    """

    kind: Literal["allow"] = "allow"

    @property
    def allowed(self) -> Literal[True]:
        """Always True."""
        return True

    def explain(self) -> str:
        """One short human line, e.g. ``allow get_user_details: customers may ... [customer-own-profile]``."""
        why = "; ".join(self.reasons) or "permitted"
        return f"allow {self.tool}: {why} [{', '.join(self.policy_ids)}]"


@dataclass(frozen=True)
class Deny(_DecisionBase):
    """The call (or tool, at bind time) is refused.

    Attributes:
        tool: Tool name.
        policy_ids: ``@id`` of each forbid policy that matched (empty when nothing permitted it).
        reasons: Why, in words an end user or a model can act on.
        resource_owner_id: The customer the call acts on, when known.
    """

    kind: Literal["deny"] = "deny"

    @property
    def allowed(self) -> Literal[False]:
        """Always False."""
        return False

    def explain(self) -> str:
        """One short human line, e.g. ``deny find_user_id_by_email: no policy permits customer to ...``."""
        why = "; ".join(self.reasons) or "denied"
        ids = f" [{', '.join(self.policy_ids)}]" if self.policy_ids else ""
        return f"deny {self.tool}: {why}{ids}"


Decision = Allow | Deny
"""A policy outcome: :class:`Allow` or :class:`Deny`."""
