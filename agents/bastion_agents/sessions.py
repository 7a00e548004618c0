"""In-memory chat sessions, each bound to the principal that opened it.

Shared by the FastAPI chat endpoint and the AgentCore entrypoint. A session id presented by another
principal is refused (:class:`SessionForbiddenError`); the same principal with a new token (e.g. after
the old one expired) gets the session reopened with that token and the conversation kept. Idle
sessions and the least recently used ones beyond ``max_sessions`` are closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
from bastion_policies import Principal

from ._errors import ConfigurationError, SessionForbiddenError
from .factory import AgentFactory, AgentSession

__all__ = ["SESSION_ID_PATTERN", "SessionStore"]

logger = logging.getLogger(__name__)

SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
"""Session ids clients may choose: 1-128 characters, letters, digits and ``._:-``."""

_SESSION_ID = re.compile(SESSION_ID_PATTERN)


def _identity(principal: Principal) -> tuple[str, tuple[str, ...], str | None]:
    return (principal.user_id, tuple(sorted(principal.groups)), principal.tenant)


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class _Entry:
    session: AgentSession
    identity: tuple[str, tuple[str, ...], str | None]
    token_fingerprint: str
    last_used: float


class SessionStore:
    """Holds open :class:`AgentSession` objects by id (in memory, one process).

    Args:
        factory: Opens new sessions.
        max_sessions: Most sessions kept open; the least recently used are closed beyond it.
        idle_seconds: Sessions unused for this long are closed.
        clock: Monotonic clock in seconds (injectable for tests).

    Raises:
        ConfigurationError: Non-positive limits.
    """

    def __init__(
        self,
        factory: AgentFactory,
        *,
        max_sessions: int = 200,
        idle_seconds: float = 1800.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_sessions < 1 or idle_seconds <= 0:
            raise ConfigurationError("max_sessions must be >= 1 and idle_seconds > 0")
        self._factory = factory
        self._max = max_sessions
        self._idle = idle_seconds
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def acquire(self, principal: Principal, token: str, session_id: str | None) -> AgentSession:
        """Return the caller's session ``session_id``, opening it if needed.

        Args:
            principal: The verified caller.
            token: The caller's bearer token (passed on to the MCP server).
            session_id: A session id from the client, or None for a new session.

        Returns:
            The session, owned by ``principal``.

        Raises:
            ConfigurationError: ``session_id`` does not match :data:`SESSION_ID_PATTERN`.
            SessionForbiddenError: The session belongs to another principal.
            ToolServerError: The MCP server could not be reached or refused the token.
        """
        if session_id is not None and not _SESSION_ID.match(session_id):
            raise ConfigurationError("session_id must be 1-128 letters, digits or ._:- characters")
        await self._expire()
        sid = session_id or _new_id()
        lock = self._locks.setdefault(sid, asyncio.Lock())
        async with lock:
            entry = self._entries.get(sid)
            identity = _identity(principal)
            fingerprint = _fingerprint(token)
            if entry is not None and entry.identity != identity:
                logger.info(
                    "session_id=<%s>, user=<%s> | session used by another principal", sid, principal.user_id
                )
                raise SessionForbiddenError("This session belongs to another user.")
            if entry is not None and entry.token_fingerprint == fingerprint and not entry.session.closed:
                entry.last_used = self._clock()
                self._entries.move_to_end(sid)
                return entry.session
            history = None
            if entry is not None:
                if entry.session.busy:
                    return entry.session  # the running turn keeps its token; ask() reports busy
                history = entry.session.history
                await anyio.to_thread.run_sync(entry.session.close)
            try:
                session = await anyio.to_thread.run_sync(
                    lambda: self._factory.open(principal, token, sid, history=history)
                )
            except BaseException:
                self._entries.pop(sid, None)
                self._locks.pop(sid, None)
                raise
            self._entries[sid] = _Entry(session, identity, fingerprint, self._clock())
            self._entries.move_to_end(sid)
        await self._evict_over_limit()
        return session

    async def close(self, session_id: str) -> None:
        """Close and forget one session (no error when unknown)."""
        entry = self._entries.pop(session_id, None)
        self._locks.pop(session_id, None)
        if entry is not None:
            await anyio.to_thread.run_sync(entry.session.close)

    async def close_all(self) -> None:
        """Close every session (e.g. on shutdown)."""
        for sid in list(self._entries):
            await self.close(sid)

    async def _expire(self) -> None:
        now = self._clock()
        stale = [
            sid for sid, e in self._entries.items() if now - e.last_used > self._idle and not e.session.busy
        ]
        for sid in stale:
            logger.debug("session_id=<%s> | closing idle session", sid)
            await self.close(sid)

    async def _evict_over_limit(self) -> None:
        while len(self._entries) > self._max:
            sid = next(iter(self._entries))
            logger.debug("session_id=<%s> | closing least recently used session", sid)
            await self.close(sid)


def _new_id() -> str:
    return uuid.uuid4().hex
