"""Errors raised by ``bastion_agents``.

One base class, :class:`AgentsError`; :class:`ConfigurationError` means the caller used the package
wrongly (a bad model spec, a malformed script file) and is fixed by changing configuration, the other
subclasses are runtime failures. Every message is safe to show to an end user: no stack trace, token
or secret is ever put into one.
"""

from __future__ import annotations

from bastion_core import BastionError, BastionUsageError

__all__ = [
    "AgentRunError",
    "AgentsError",
    "ConfigurationError",
    "SessionBusyError",
    "SessionClosedError",
    "SessionForbiddenError",
    "ToolServerError",
]


class AgentsError(BastionError):
    """Base class of every error raised by ``bastion_agents``."""


class ConfigurationError(AgentsError, BastionUsageError, ValueError):
    """The package was configured or called wrongly; the message says what to change."""


class ToolServerError(AgentsError):
    """The MCP tool server could not be reached or refused the session (e.g. an expired token)."""


class AgentRunError(AgentsError):
    """The model or a tool server failed while answering one message; the session stays usable."""


class SessionBusyError(AgentsError):
    """A message was sent to a session that is still answering the previous one."""


class SessionClosedError(AgentsError):
    """A message was sent to a session that has been closed."""


class SessionForbiddenError(AgentsError):
    """A session id was used by a principal other than the one that opened it."""
