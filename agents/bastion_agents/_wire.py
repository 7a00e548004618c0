"""Shared wire helpers for the chat endpoint and the AgentCore entrypoint (private)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol, TypedDict

from bastion_policies import (
    AuthenticationError,
    Principal,
    TokenExpiredError,
    UnknownGroupError,
)

from ._errors import AgentRunError, SessionBusyError, SessionClosedError, ToolServerError
from .factory import AgentSession

__all__ = [
    "ErrorBody",
    "TokenVerifier",
    "WireEvent",
    "auth_error_code",
    "bearer_token",
    "error_body",
    "internal_message",
    "safe_auth_message",
    "session_events",
]

logger = logging.getLogger(__name__)

_INTERNAL = "Something went wrong on our side. Please try again."


class TokenVerifier(Protocol):
    """Verifies a bearer JWT (``bastion_policies.JwtVerifier`` fits).

    ``verify`` raises ``bastion_policies.AuthenticationError`` (whose text is safe for end users).
    """

    def verify(self, token: str) -> Principal:
        """Return the token's principal."""
        ...


class ErrorDetail(TypedDict):
    """``{"code", "message"}`` of an error response or event."""

    code: str
    message: str


class ErrorBody(TypedDict):
    """JSON body of an error response: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


class WireEvent(TypedDict):
    """One streamed event: its SSE name and JSON payload."""

    event: str
    data: dict[str, Any]


def error_body(code: str, message: str) -> ErrorBody:
    """Build an error body."""
    return {"error": {"code": code, "message": message}}


def bearer_token(authorization: str | None) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def auth_error_code(exc: AuthenticationError) -> str:
    """A stable machine code for an authentication failure."""
    if isinstance(exc, TokenExpiredError):
        return "token_expired"
    if isinstance(exc, UnknownGroupError):
        return "unknown_group"
    return "invalid_token"


def safe_auth_message(exc: AuthenticationError) -> str:
    """The exception's end-user text (``public_message``), or a generic one if it is empty."""
    return exc.public_message or "The bearer token was refused."


async def session_events(session: AgentSession, message: str) -> AsyncIterator[WireEvent]:
    """Stream one turn as wire events: ``session``, then the turn's events, or ``error`` on failure.

    Never raises for model or tool-server failures, and never puts exception text on the wire.
    """
    yield {
        "event": "session",
        "data": {
            "session_id": session.session_id,
            "user": session.principal.user_id,
            "groups": list(session.principal.groups),
            "tools": list(session.bound_tools),
        },
    }
    try:
        async for event in session.ask(message):
            yield {"event": event.kind, "data": dict(event.to_wire())}
    except SessionBusyError as exc:
        yield {"event": "error", "data": dict(error_body("session_busy", str(exc))["error"])}
    except SessionClosedError as exc:
        yield {"event": "error", "data": dict(error_body("session_closed", str(exc))["error"])}
    except (AgentRunError, ToolServerError) as exc:
        yield {"event": "error", "data": dict(error_body("agent_failed", str(exc))["error"])}
    except Exception:
        logger.exception("session_id=<%s> | unexpected failure while streaming a turn", session.session_id)
        yield {"event": "error", "data": dict(error_body("internal", _INTERNAL)["error"])}


def internal_message() -> str:
    """The generic end-user message for unexpected failures."""
    return _INTERNAL
