"""Server-side session facts: who owns a session and which subject it acts for.

A session key comes from a verified token (the exchanged token's ``sid``, see
``bastion_policies.TokenExchanger``) or, for a direct MCP client without one, from the MCP transport
session (:func:`transport_session_key`). Either way the session belongs to the principal that
opened it (:func:`owner_key`: user id, tenant and sorted groups); another principal presenting the
same key is refused (:class:`~bastion_mcp.errors.SessionOwnershipError`).

Facts live in one :class:`SessionStore` that survives restarts: :class:`SqliteSessionStore` (a file
in the state directory, the default) or :class:`RedisSessionStore` (several replicas). Sessions
expire by idle time only; a store never evicts a live session to make room. A store that cannot be
reached raises :class:`~bastion_mcp.errors.SessionStoreUnavailableError`, so the server reports an
outage rather than deciding without the facts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

from bastion_policies import Principal

from bastion_mcp.errors import ConfigurationError

__all__ = [
    "MAX_SESSION_KEY_LENGTH",
    "SessionRecord",
    "SessionStore",
    "check_session_key",
    "owner_key",
    "transport_session_key",
]

MAX_SESSION_KEY_LENGTH = 200
"""Longest session key a store accepts; longer keys are refused, never truncated."""

DEFAULT_IDLE_SECONDS = 1800.0
"""Sessions unused for this long (30 minutes) are gone."""


def owner_key(principal: Principal) -> str:
    """The identity a session is bound to: user id, tenant and sorted groups, as compact JSON.

    Args:
        principal: The verified caller.

    Returns:
        E.g. ``'["sara_doe_496",null,["customer"]]'``. Claims other than these do not matter, so the
        same user with a refreshed token (new ``iat``/``exp``/``jti``) owns the same sessions.
    """
    return json.dumps(
        [principal.user_id, principal.tenant, sorted(set(principal.groups))],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def transport_session_key(mcp_session_id: str) -> str:
    """The session key of an MCP transport session (``Mcp-Session-Id``), for clients without ``sid``.

    Args:
        mcp_session_id: The transport's session id (any length).

    Returns:
        ``"mcp:"`` followed by the SHA-256 hex digest of the id: fixed length, and never equal to a
        conversation key (those start with ``"conv:"``).

    Raises:
        ConfigurationError: If the id is empty.
    """
    if not mcp_session_id:
        raise ConfigurationError("The MCP session id must not be empty.")
    return "mcp:" + hashlib.sha256(mcp_session_id.encode("utf-8")).hexdigest()


def check_session_key(session_key: str) -> str:
    """Return ``session_key`` if a store accepts it.

    Raises:
        ConfigurationError: If it is not a non-empty string of at most 200 characters (derive keys
            with ``derive_session_id`` or :func:`transport_session_key` instead of truncating).
    """
    if not isinstance(session_key, str) or not session_key or len(session_key) > MAX_SESSION_KEY_LENGTH:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(
            f"Session keys must be 1-{MAX_SESSION_KEY_LENGTH} characters; derive them, never truncate."
        )
    return session_key


@dataclass(frozen=True)
class SessionRecord:
    """The facts of one live session.

    Attributes:
        session_key: The key (``conv:…`` or ``mcp:…``).
        owner: :func:`owner_key` of the principal that opened it.
        subject_id: The resource owner the session acts for, once pinned (e.g. the one customer a
            support session serves); None until then.
        created: When it was opened, epoch seconds.
        last_seen: When it was last used, epoch seconds.
    """

    session_key: str
    owner: str
    subject_id: str | None
    created: float
    last_seen: float

    def owned_by(self, principal: Principal) -> bool:
        """Return whether ``principal`` owns this session."""
        return self.owner == owner_key(principal)


class SessionStore(Protocol):
    """Where session facts live. Implementations are safe for concurrent use (tasks, processes).

    Every method raises ``SessionStoreUnavailableError`` when the store cannot be reached, and
    ``ConfigurationError`` for a session key :func:`check_session_key` refuses.
    """

    async def open(self, session_key: str, owner: Principal) -> SessionRecord:
        """Open the session, or return the live one and refresh its idle timer.

        Raises:
            SessionOwnershipError: The live session belongs to another principal.
        """
        ...

    async def pin_subject(self, session_key: str, owner: Principal, subject_id: str) -> str:
        """Atomically pin the session's subject if none is pinned yet (opening it if needed).

        Returns:
            The subject pinned now: ``subject_id``, or the one an earlier (or concurrent) call pinned.

        Raises:
            SessionOwnershipError: The live session belongs to another principal.
        """
        ...

    async def get(self, session_key: str) -> SessionRecord | None:
        """The live session's facts without touching it; None if absent or expired."""
        ...

    async def aclose(self) -> None:
        """Release connections (idempotent); the facts stay in the store."""
        ...
