"""The Amazon Bedrock AgentCore Runtime entrypoint on the same agent factory.

``POST /invocations`` takes ``{"prompt": str}``; identity is the ``Authorization: Bearer <jwt>`` header
(AgentCore forwards it when the runtime is configured for JWT inbound auth), the session is the
``X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`` header. The response streams SSE ``data:`` lines,
each ``{"event": <name>, "data": {...}}`` with the same events as the chat endpoint
(:mod:`bastion_agents.chat`). ``GET /ping`` is AgentCore's health check.

Errors before streaming are JSON ``{"error": {"code", "message"}}`` (401, 403, 400); unexpected
failures give a generic 500 body: the library's default, which echoes exception text, is never used.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from bastion_policies import AuthenticationError
from bedrock_agentcore import BedrockAgentCoreApp
from bedrock_agentcore.runtime.context import RequestContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import JSONResponse

from ._errors import ConfigurationError, SessionForbiddenError, ToolServerError
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
from .sessions import SessionStore

__all__ = ["InvocationRequest", "create_agentcore_app"]

logger = logging.getLogger(__name__)


class InvocationRequest(BaseModel):
    """Body of ``POST /invocations``.

    Attributes:
        prompt: The user's message.
    """

    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(min_length=1)


def _json_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(dict(error_body(code, message)), status_code=status)


async def _as_dicts(events: AsyncIterator[WireEvent]) -> AsyncIterator[dict[str, Any]]:
    async for event in events:
        yield {"event": event["event"], "data": event["data"]}


async def _single_error(code: str, message: str) -> AsyncIterator[dict[str, Any]]:
    yield {"event": "error", "data": {"code": code, "message": message}}


def create_agentcore_app(
    factory: AgentFactory,
    verifier: TokenVerifier,
    *,
    max_message_chars: int = 4000,
    max_sessions: int = 200,
    idle_seconds: float = 1800.0,
) -> BedrockAgentCoreApp:
    """Build a ``BedrockAgentCoreApp`` whose entrypoint chats through ``factory``.

    Args:
        factory: Opens one agent session per (principal, session id).
        verifier: Verifies bearer JWTs (``bastion_policies.JwtVerifier``).
        max_message_chars: Longest accepted prompt.
        max_sessions: Most sessions kept open in this runtime instance.
        idle_seconds: Idle sessions are closed after this long.

    Returns:
        The app (serve it with uvicorn, or ``app.run()`` on port 8080).
    """
    app = BedrockAgentCoreApp()
    # Sessions live on the app's worker event loop, where every invocation runs.
    sessions = SessionStore(factory, max_sessions=max_sessions, idle_seconds=idle_seconds)
    app.state.sessions = sessions

    async def invoke(payload: Any, context: RequestContext) -> Any:
        try:
            return await _invoke(payload, context)
        except Exception:
            logger.exception("unexpected failure in the AgentCore entrypoint")
            return _json_error(500, "internal", internal_message())

    async def _invoke(payload: Any, context: RequestContext) -> Any:
        headers = {k.lower(): v for k, v in (context.request_headers or {}).items()}
        token = bearer_token(headers.get("authorization"))
        if token is None:
            return _json_error(401, "missing_token", "Send 'Authorization: Bearer <token>'.")
        try:
            principal = verifier.verify(token)
        except AuthenticationError as exc:
            return _json_error(401, auth_error_code(exc), safe_auth_message(exc))
        try:
            request = InvocationRequest.model_validate(payload)
        except ValidationError:
            return _json_error(400, "invalid_request", "Send a JSON object with a non-empty 'prompt' string.")
        if len(request.prompt) > max_message_chars:
            return _json_error(
                400, "message_too_long", f"The prompt must be at most {max_message_chars} characters."
            )
        try:
            session = await sessions.acquire(principal, token, context.session_id)
        except SessionForbiddenError as exc:
            return _json_error(403, "forbidden_session", str(exc))
        except ConfigurationError as exc:
            return _json_error(400, "invalid_session_id", str(exc))
        except ToolServerError as exc:
            return _single_error("tool_server_unavailable", str(exc))
        return _as_dicts(session_events(session, request.prompt))

    app.entrypoint(invoke)
    return app
