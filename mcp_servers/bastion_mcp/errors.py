"""Errors raised by Bastion's MCP servers.

One base, `McpServerError`; `ConfigurationError` is the "you used it wrong" branch (raised while a
server is being built), everything else is a runtime failure.
"""

from __future__ import annotations

from bastion_core import BastionError, BastionUsageError

__all__ = ["ConfigurationError", "McpServerError"]


class McpServerError(BastionError):
    """Base class of every error raised by `bastion_mcp`."""


class ConfigurationError(McpServerError, BastionUsageError):
    """A server was built with inconsistent arguments (e.g. an operation the policy catalog lacks).

    The message names the inconsistency and how to fix it.
    """
