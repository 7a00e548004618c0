"""Shared MCP servers that expose Bastion facades as tools and decide and enforce policy themselves."""

from bastion_mcp._session_redis import RedisSessionStore
from bastion_mcp._session_sqlite import SqliteSessionStore
from bastion_mcp._sessions import SessionRecord, SessionStore, owner_key, transport_session_key
from bastion_mcp.auth import AccessVerifier, CallerAccess, JwtTokenVerifier, current_access, current_principal
from bastion_mcp.errors import (
    ConfigurationError,
    McpServerError,
    SessionOwnershipError,
    SessionStoreUnavailableError,
)
from bastion_mcp.server import DECISION_META_KEY, DENIED_PREFIX, DecisionMeta, FacadeLike, PolicyBoundServer

__all__ = [
    "DECISION_META_KEY",
    "DENIED_PREFIX",
    "AccessVerifier",
    "CallerAccess",
    "ConfigurationError",
    "DecisionMeta",
    "FacadeLike",
    "JwtTokenVerifier",
    "McpServerError",
    "PolicyBoundServer",
    "RedisSessionStore",
    "SessionOwnershipError",
    "SessionRecord",
    "SessionStore",
    "SessionStoreUnavailableError",
    "SqliteSessionStore",
    "current_access",
    "current_principal",
    "owner_key",
    "transport_session_key",
]
