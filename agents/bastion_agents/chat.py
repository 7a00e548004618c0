"""The FastAPI chat endpoint: ``POST /v1/chat`` streaming Server-Sent Events.

Request: ``Authorization: Bearer <jwt>`` and JSON ``{"message": str, "session_id": str | null}``.
Response: ``text/event-stream`` with events, each ``data`` a JSON object:

- ``session``: ``{"session_id", "user", "groups", "tools"}`` (the tools bound for this user)
- ``text``: ``{"text"}`` reply fragments
- ``tool_call``: ``{"call_id", "tool", "arguments", "decision", "policy_ids"}``
- ``policy_denial``: ``{"call_id", "tool", "reason", "policy_ids", "source"}``
- ``tool_result``: ``{"call_id", "tool", "ok", "content_preview"}``
- ``done``: ``{"text"}`` the whole reply; or ``error``: ``{"code", "message"}``

Errors before streaming are JSON ``{"error": {"code", "message"}}``: 401 for a missing, malformed,
forged, expired token or an unknown group; 403 for a session opened by another user; 400/413/415 for a
bad body. No response ever carries a stack trace, exception text or the token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

from bastion_policies import AuthenticationError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import SessionForbiddenError, ToolServerError
from ._wire import (
    TokenVerifier,
    WireEvent,
    auth_error_code,
    bearer_token,
    error_body,
    internal_message,
    safe_auth_message,
    session_events,
)
from .factory import AgentFactory
from .sessions import SESSION_ID_PATTERN, SessionStore

__all__ = ["ChatRequest", "create_chat_app"]

logger = logging.getLogger(__name__)

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class ChatRequest(BaseModel):
    """Body of ``POST /v1/chat``.

    Attributes:
        message: The user's message (1 to the app's ``max_message_chars`` characters).
        session_id: A session id from an earlier ``session`` event, or None for a new session.
    """

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1)
    session_id: str | None = Field(default=None, pattern=SESSION_ID_PATTERN)


def _json_error(status: int, code: str, message: str, *, challenge: bool = False) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="bastion"'} if challenge else None
    return JSONResponse(dict(error_body(code, message)), status_code=status, headers=headers)


def _sse(event: WireEvent) -> str:
    return f"event: {event['event']}\ndata: {json.dumps(event['data'], ensure_ascii=False)}\n\n"


async def _stream(events: AsyncIterator[WireEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield _sse(event)


async def _single(event: WireEvent) -> AsyncIterator[WireEvent]:
    yield event


def create_chat_app(
    factory: AgentFactory,
    verifier: TokenVerifier,
    *,
    max_message_chars: int = 4000,
    max_body_bytes: int = 16_384,
    max_sessions: int = 200,
    idle_seconds: float = 1800.0,
    store: SessionStore | None = None,
) -> FastAPI:
    """Build the chat app over an agent factory.

    Args:
        factory: Opens one agent session per (principal, session id).
        verifier: Verifies bearer JWTs (``bastion_policies.JwtVerifier``).
        max_message_chars: Longest accepted message.
        max_body_bytes: Largest accepted request body.
        max_sessions: Most sessions kept open (least recently used are closed).
        idle_seconds: Idle sessions are closed after this long.
        store: A session store to use instead of a new one (e.g. shared with tests).

    Returns:
        The FastAPI app (``app.state.sessions`` is its :class:`SessionStore`); routes ``POST /v1/chat``
        and ``GET /healthz``. Open sessions are closed when the app shuts down.
    """
    sessions = store or SessionStore(factory, max_sessions=max_sessions, idle_seconds=idle_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncGenerator[None]:
        yield
        await sessions.close_all()

    app = FastAPI(title="Bastion chat", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = sessions

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:  # pyright: ignore[reportUnusedFunction]
        logger.error("path=<%s> | unhandled error", request.url.path, exc_info=exc)
        return _json_error(500, "internal", internal_message())

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:  # pyright: ignore[reportUnusedFunction]
        return {"status": "ok"}

    @app.post("/v1/chat", response_model=None)
    async def chat(request: Request) -> Response:  # pyright: ignore[reportUnusedFunction]
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            return _json_error(401, "missing_token", "Send 'Authorization: Bearer <token>'.", challenge=True)
        try:
            principal = verifier.verify(token)
        except AuthenticationError as exc:
            return _json_error(401, auth_error_code(exc), safe_auth_message(exc), challenge=True)

        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("application/json"):
            return _json_error(415, "unsupported_media_type", "Send the body as application/json.")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body_bytes):
            return _json_error(
                413, "body_too_large", f"The request body must be at most {max_body_bytes} bytes."
            )
        body = await request.body()
        if len(body) > max_body_bytes:
            return _json_error(
                413, "body_too_large", f"The request body must be at most {max_body_bytes} bytes."
            )
        try:
            payload = ChatRequest.model_validate_json(body)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in err["loc"]) or "body" for err in exc.errors()})
            return _json_error(400, "invalid_request", f"Invalid request body (check: {', '.join(fields)}).")
        if len(payload.message) > max_message_chars:
            return _json_error(
                400, "message_too_long", f"The message must be at most {max_message_chars} characters."
            )

        try:
            session = await sessions.acquire(principal, token, payload.session_id)
        except SessionForbiddenError as exc:
            return _json_error(403, "forbidden_session", str(exc))
        except ToolServerError as exc:
            failure: WireEvent = {
                "event": "error",
                "data": {"code": "tool_server_unavailable", "message": str(exc)},
            }
            return StreamingResponse(
                _stream(_single(failure)), media_type="text/event-stream", headers=_SSE_HEADERS
            )
        return StreamingResponse(
            _stream(session_events(session, payload.message)),
            media_type="text/event-stream",
            headers=_SSE_HEADERS,
        )

    return app
