"""Session facts in Redis (for more than one MCP server replica).

One hash per session (``<prefix><session key>`` with fields ``owner``, ``subject``, ``created``,
``last_seen``) whose TTL is the idle time, refreshed on every use: Redis itself expires idle
sessions. Opening and pinning are Lua scripts, so the ownership check and the write are one atomic
step on the server, whatever the number of replicas (one key per script: Redis Cluster works too).

Redis must not evict live sessions to free memory: with a ``maxmemory`` limit, the server's
``maxmemory-policy`` must be ``noeviction``; the store checks this on first use and refuses to run
otherwise (``ConfigurationError``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from bastion_policies import Principal
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError

from bastion_mcp._sessions import DEFAULT_IDLE_SECONDS, SessionRecord, check_session_key, owner_key
from bastion_mcp.errors import ConfigurationError, SessionOwnershipError, SessionStoreUnavailableError

__all__ = ["RedisSessionStore"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# KEYS[1] = session hash; ARGV = owner, now, idle ms.
_OPEN = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return {'forbidden'} end
if not owner then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'created', ARGV[2], 'last_seen', ARGV[2])
else
  redis.call('HSET', KEYS[1], 'last_seen', ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local r = redis.call('HMGET', KEYS[1], 'owner', 'subject', 'created', 'last_seen')
return {'ok', r[1], r[2], r[3], r[4]}
"""

# KEYS[1] = session hash; ARGV = owner, now, idle ms, subject.
_PIN = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return {'forbidden'} end
if not owner then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'created', ARGV[2])
end
local subject = redis.call('HGET', KEYS[1], 'subject')
if not subject then
  subject = ARGV[4]
  redis.call('HSET', KEYS[1], 'subject', subject)
end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'ok', subject}
"""


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


class RedisSessionStore:
    """A :class:`~bastion_mcp.SessionStore` in Redis.

    Args:
        client: An asyncio Redis client (``decode_responses`` either way); the store closes it in
            :meth:`aclose`.
        idle_seconds: A session unused for this long expires (the key's TTL; default 1800).
        prefix: Key prefix of the session hashes.
        clock: Time source for the ``created``/``last_seen`` facts, epoch seconds (expiry itself is
            Redis's TTL).

    Raises:
        ConfigurationError: If ``idle_seconds`` is not positive or ``prefix`` is empty.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        prefix: str = "bastion:session:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if idle_seconds <= 0:
            raise ConfigurationError("idle_seconds must be positive.")
        if not prefix:
            raise ConfigurationError("prefix must not be empty.")
        self._client = client
        self.idle_seconds = float(idle_seconds)
        self.prefix = prefix
        self._clock = clock
        self._idle_ms = max(1, round(self.idle_seconds * 1000))
        self._open_script = client.register_script(_OPEN)
        self._pin_script = client.register_script(_PIN)
        self._checked = False

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisSessionStore:
        """A store on a new client for ``url`` (e.g. ``redis://127.0.0.1:6379/0``).

        Args:
            url: A redis-py URL.
            **kwargs: :class:`RedisSessionStore` keyword arguments.
        """
        client = aioredis.Redis.from_url(
            url,
            socket_timeout=5,
            socket_connect_timeout=2,
            # A short retry: an outage surfaces within about a second instead of ~20 s.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        )
        return cls(client, **kwargs)

    def key(self, session_key: str) -> str:
        """The Redis key of ``session_key``'s hash."""
        return self.prefix + check_session_key(session_key)

    async def open(self, session_key: str, owner: Principal) -> SessionRecord:
        """Open the session, or return the live one and refresh its TTL (one Lua script).

        Raises:
            SessionOwnershipError: The live session belongs to another principal.
            SessionStoreUnavailableError: Redis cannot be reached.
            ConfigurationError: The key is invalid, or Redis may evict keys (see module docstring).
        """
        key, who = self.key(session_key), owner_key(owner)

        async def run() -> object:
            return await self._open_script(keys=[key], args=[who, repr(self._clock()), self._idle_ms])

        fields = self._reply(await self._call(run))
        return SessionRecord(
            session_key=session_key,
            owner=_text(fields[1]) or who,
            subject_id=_text(fields[2]),
            created=float(_text(fields[3]) or 0.0),
            last_seen=float(_text(fields[4]) or 0.0),
        )

    async def pin_subject(self, session_key: str, owner: Principal, subject_id: str) -> str:
        """Pin the session's subject unless one is pinned (one Lua script).

        Returns:
            The pinned subject: ``subject_id`` or the one pinned before.

        Raises:
            SessionOwnershipError: The live session belongs to another principal.
            SessionStoreUnavailableError: Redis cannot be reached.
            ConfigurationError: The key is invalid or ``subject_id`` empty.
        """
        key, who = self.key(session_key), owner_key(owner)
        if not subject_id:
            raise ConfigurationError("subject_id must not be empty.")

        async def run() -> object:
            args = [who, repr(self._clock()), self._idle_ms, subject_id]
            return await self._pin_script(keys=[key], args=args)

        return _text(self._reply(await self._call(run))[1]) or subject_id

    async def get(self, session_key: str) -> SessionRecord | None:
        """The live session's facts (no TTL refresh), or None if absent or expired.

        Raises:
            SessionStoreUnavailableError: Redis cannot be reached.
        """
        key = self.key(session_key)

        async def run() -> Sequence[object]:
            # redis-py types its commands for both clients (`Awaitable | list`); this one is async.
            return await self._client.hmget(key, ["owner", "subject", "created", "last_seen"])  # pyright: ignore[reportGeneralTypeIssues]

        fields = await self._call(run)
        owner = _text(fields[0])
        if owner is None:
            return None
        return SessionRecord(
            session_key=session_key,
            owner=owner,
            subject_id=_text(fields[1]),
            created=float(_text(fields[2]) or 0.0),
            last_seen=float(_text(fields[3]) or 0.0),
        )

    async def aclose(self) -> None:
        """Close the client's connections (idempotent)."""
        try:
            await self._client.aclose()
        except (RedisError, OSError) as exc:  # closing a broken connection is not worth an error
            logger.debug("error=<%s> | closing the Redis client failed", type(exc).__name__)

    async def _call(self, op: Callable[[], Awaitable[_T]]) -> _T:
        try:
            if not self._checked:
                await self._check_eviction_policy()
            return await op()
        except (RedisError, OSError) as exc:
            logger.warning("error=<%s> | session store unavailable", type(exc).__name__)
            raise SessionStoreUnavailableError() from None

    async def _check_eviction_policy(self) -> None:
        try:
            info: dict[str, Any] = await self._client.info("memory")  # pyright: ignore[reportUnknownVariableType]
        except ResponseError:  # INFO disabled (some managed services): cannot check, assume configured
            logger.warning("Cannot read Redis's maxmemory-policy; make sure it is 'noeviction'.")
            self._checked = True
            return
        maxmemory = int(info.get("maxmemory", 0) or 0)
        policy = _text(info.get("maxmemory_policy")) or "noeviction"
        if maxmemory > 0 and policy != "noeviction":
            raise ConfigurationError(
                f"Redis may evict live sessions (maxmemory-policy {policy}); "
                "set maxmemory-policy to noeviction or remove the maxmemory limit."
            )
        self._checked = True

    @staticmethod
    def _reply(reply: object) -> Sequence[object]:
        if not isinstance(reply, list) or not reply:
            raise SessionStoreUnavailableError()
        fields: list[object] = reply  # pyright: ignore[reportUnknownVariableType]
        if _text(fields[0]) == "forbidden":
            raise SessionOwnershipError()
        return fields
