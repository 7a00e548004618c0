"""Errors raised by Bastion's MCP servers.

One base, `McpServerError`; `ConfigurationError` is the "you used it wrong" branch (raised while a
server is being built), everything else is a runtime failure.
"""

from __future__ import annotations

from bastion_core import BastionError, BastionUsageError

__all__ = [
    "ConfigurationError",
    "McpServerError",
    "SessionOwnershipError",
    "SessionStoreUnavailableError",
]


class McpServerError(BastionError):
    """Base class of every error raised by `bastion_mcp`."""


class ConfigurationError(McpServerError, BastionUsageError):
    """A server was built with inconsistent arguments (e.g. an operation the policy catalog lacks).

    The message names the inconsistency and how to fix it.
    """


class SessionOwnershipError(McpServerError):
    """A session key was presented by a principal other than the one that opened the session.

    The call must be refused; the caller should start a new conversation.
    """

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "This session belongs to another user; start a new conversation.")


class SessionStoreUnavailableError(McpServerError):
    """The session store (SQLite file or Redis) cannot be reached or written.

    An outage, not a denial: callers should report it as a temporary failure and try again later.
    """

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "The session store is unavailable right now; try again later.")
