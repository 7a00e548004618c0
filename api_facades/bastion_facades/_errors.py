"""Errors of the facade toolkit: one base, ``FacadeError``.

* :class:`ConfigurationError` - the facade was set up wrongly (a programming/deployment error).
* :class:`ArgumentError` - an operation was called with arguments that fail its input schema.
* :class:`ToolCallError` - the call reached the legacy system and failed in a way the model should
  see; its message says what to do next. :class:`UpstreamError` (5xx, timeout, unreachable) is one.
* :class:`LegacyAPIError` - a raw legacy 4xx error envelope, mapped to ``ToolCallError`` by the
  operations; :class:`LegacyAuthError` - the legacy system refused the facade's credentials.

No message carries a token, a secret or a stack trace.
"""

from __future__ import annotations

from bastion_core import BastionError, BastionUsageError


class FacadeError(BastionError):
    """Base class of every ``bastion_facades`` error."""


class ConfigurationError(FacadeError, BastionUsageError):
    """The facade or its client was configured wrongly; fix the configuration."""


class ArgumentError(FacadeError):
    """Arguments failed the operation's input schema; the message lists each problem.

    Attributes:
        operation: The operation name.
        problems: One readable line per invalid or missing argument.
    """

    def __init__(self, operation: str, problems: list[str]) -> None:
        self.operation = operation
        self.problems = problems
        super().__init__(f"Invalid arguments for {operation}: " + "; ".join(problems))


class ToolCallError(FacadeError):
    """A failure the model should see; the message tells it what to do next."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UpstreamError(ToolCallError):
    """The legacy system failed (5xx), timed out, or could not be reached.

    Attributes:
        status: The HTTP status, or None for timeouts and connection failures.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LegacyAPIError(FacadeError):
    """A legacy 4xx response with its error envelope.

    Attributes:
        status: HTTP status code.
        code: Legacy error code (e.g. ``ORD-404``); ``HTTP-<status>`` if the body had no envelope.
        legacy_message: The legacy system's message.
        trace_id: The legacy trace id, if any.
    """

    def __init__(self, status: int, code: str, legacy_message: str, trace_id: str | None = None) -> None:
        super().__init__(f"Legacy API error {code} (HTTP {status}): {legacy_message}")
        self.status = status
        self.code = code
        self.legacy_message = legacy_message
        self.trace_id = trace_id


class LegacyAuthError(FacadeError):
    """The legacy system rejected the facade's client credentials or its fresh token."""
