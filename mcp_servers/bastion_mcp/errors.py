"""Errors raised by Bastion's MCP servers.

One base, `McpServerError`; `ConfigurationError` is the "you used it wrong" branch (raised while a
server is being built), everything else is a runtime failure.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "McpServerError"]


class McpServerError(Exception):
    """Base class of every error raised by `bastion_mcp`."""


class ConfigurationError(McpServerError):
    """A server was built with inconsistent arguments (e.g. an operation the policy catalog lacks).

    The message names the inconsistency and how to fix it.
    """
