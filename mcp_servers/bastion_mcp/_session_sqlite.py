"""Session facts in a SQLite file (the default store; one machine, any number of worker processes).

One row per session. Every operation is its own transaction, and the read-then-write ones
(:meth:`SqliteSessionStore.open`, :meth:`SqliteSessionStore.pin_subject`) start with
``BEGIN IMMEDIATE``, which takes SQLite's write lock before reading, so processes sharing the file
cannot interleave between the check and the write. The file is in WAL mode and created with mode
0600. Rows expire by idle time only (checked on read, deleted lazily); there is no size limit and
nothing live is ever evicted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bastion_policies import Principal

from bastion_mcp._sessions import DEFAULT_IDLE_SECONDS, SessionRecord, check_session_key, owner_key
from bastion_mcp.errors import ConfigurationError, SessionOwnershipError, SessionStoreUnavailableError

__all__ = ["SqliteSessionStore"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions ("
    " session_key TEXT PRIMARY KEY,"
    " owner TEXT NOT NULL,"
    " subject_id TEXT,"
    " created REAL NOT NULL,"
    " last_seen REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sessions_last_seen ON sessions (last_seen)",
)
_SELECT = "SELECT owner, subject_id, created, last_seen FROM sessions WHERE session_key = ?"
_UPSERT = "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?)"
_PURGE_EVERY_SECONDS = 60.0
_BUSY_TIMEOUT_SECONDS = 10.0


class SqliteSessionStore:
    """A :class:`~bastion_mcp.SessionStore` in a SQLite file.

    Args:
        path: The database file, e.g. ``<state_dir>/sessions.sqlite3`` (parents are created).
        idle_seconds: A session unused for this long is gone (default 1800).
        clock: Time source in epoch seconds (default :func:`time.time`); inject one in tests. Worker
            processes sharing the file must share a clock (the wall clock).

    Raises:
        ConfigurationError: If ``idle_seconds`` is not positive.

    The file is opened on first use; failures then raise ``SessionStoreUnavailableError``.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if idle_seconds <= 0:
            raise ConfigurationError("idle_seconds must be positive.")
        self.path = Path(path)
        self.idle_seconds = float(idle_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._last_purge = float("-inf")

    async def open(self, session_key: str, owner: Principal) -> SessionRecord:
        """Open the session, or return the live one and refresh its idle timer.

        Args:
            session_key: A derived key (``conv:…`` or ``mcp:…``), at most 200 characters.
            owner: The verified caller.

        Returns:
            The session's facts after the call.

        Raises:
            SessionOwnershipError: The live session belongs to another principal.
            SessionStoreUnavailableError: The file cannot be opened or written.
            ConfigurationError: The key is empty or too long.
        """
        key, who = check_session_key(session_key), owner_key(owner)
        return await self._run(lambda conn: self._open(conn, key, who))

    async def pin_subject(self, session_key: str, owner: Principal, subject_id: str) -> str:
        """Pin the session's subject unless one is pinned (one ``BEGIN IMMEDIATE`` transaction).

        Args:
            session_key: The session (opened here if absent or expired).
            owner: The verified caller.
            subject_id: The resource owner the session now acts for.

        Returns:
            The pinned subject: ``subject_id`` or the one pinned before.

        Raises:
            SessionOwnershipError: The live session belongs to another principal.
            SessionStoreUnavailableError: The file cannot be opened or written.
            ConfigurationError: The key is invalid or ``subject_id`` empty.
        """
        key, who = check_session_key(session_key), owner_key(owner)
        if not subject_id:
            raise ConfigurationError("subject_id must not be empty.")
        return await self._run(lambda conn: self._pin(conn, key, who, subject_id))

    async def get(self, session_key: str) -> SessionRecord | None:
        """The live session's facts (no refresh), or None if absent or expired.

        Raises:
            SessionStoreUnavailableError: The file cannot be opened or read.
        """
        key = check_session_key(session_key)
        return await self._run(lambda conn: self._get(conn, key))

    async def aclose(self) -> None:
        """Close the connection (idempotent); a later call opens it again."""
        await asyncio.to_thread(self._close)

    # -- worker-thread side ----------------------------------------------------------------------

    async def _run(self, op: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.to_thread(self._locked, op)

    def _locked(self, op: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            try:
                conn = self._conn or self._connect()
                return op(conn)
            except (sqlite3.Error, OSError) as exc:
                logger.warning("path=<%s>, error=<%s> | session store unavailable", self.path, exc)
                raise SessionStoreUnavailableError() from None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            os.close(fd)
        conn = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        except sqlite3.Error:
            conn.close()
            raise
        self._conn = conn
        logger.debug("path=<%s> | opened the session store", self.path)
        return conn

    def _close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _live(self, row: tuple[str, str | None, float, float] | None, now: float) -> bool:
        return row is not None and now - row[3] < self.idle_seconds

    def _open(self, conn: sqlite3.Connection, key: str, who: str) -> SessionRecord:
        now = self._clock()
        with _immediate(conn):
            self._purge(conn, now)
            row = conn.execute(_SELECT, (key,)).fetchone()
            if row is not None and self._live(row, now):
                if row[0] != who:
                    raise SessionOwnershipError()
                conn.execute("UPDATE sessions SET last_seen = ? WHERE session_key = ?", (now, key))
                return SessionRecord(key, who, row[1], row[2], now)
            conn.execute(_UPSERT, (key, who, None, now, now))
            return SessionRecord(key, who, None, now, now)

    def _pin(self, conn: sqlite3.Connection, key: str, who: str, subject_id: str) -> str:
        now = self._clock()
        with _immediate(conn):
            row = conn.execute(_SELECT, (key,)).fetchone()
            if row is None or not self._live(row, now):
                conn.execute(_UPSERT, (key, who, subject_id, now, now))
                return subject_id
            if row[0] != who:
                raise SessionOwnershipError()
            pinned: str = row[1] if row[1] is not None else subject_id
            conn.execute(
                "UPDATE sessions SET subject_id = ?, last_seen = ? WHERE session_key = ?", (pinned, now, key)
            )
            return pinned

    def _get(self, conn: sqlite3.Connection, key: str) -> SessionRecord | None:
        row = conn.execute(_SELECT, (key,)).fetchone()
        if row is None or not self._live(row, self._clock()):
            return None
        return SessionRecord(key, row[0], row[1], row[2], row[3])

    def _purge(self, conn: sqlite3.Connection, now: float) -> None:
        """Delete expired rows, at most once a minute (only expired ones: nothing live is evicted)."""
        if now - self._last_purge < _PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        deleted = conn.execute("DELETE FROM sessions WHERE last_seen <= ?", (now - self.idle_seconds,))
        if deleted.rowcount:
            logger.debug("count=<%d> | deleted expired sessions", deleted.rowcount)


class _immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any exception) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
