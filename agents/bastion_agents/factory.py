"""The agent factory: principal → MCP client carrying the principal's token → bound tools → agent.

The MCP server lists only the tools the caller may use, so the agent is built with exactly those: the
model never sees the others. Each call is then checked again by :class:`~bastion_agents.guard.PolicyGuard`
before it is sent, and once more by the server.

Telemetry: nothing here configures OpenTelemetry. Strands records prompt text in span events, so an
application that installs a tracer provider must mask or drop those events before export.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, Self

from bastion_policies import Principal
from strands import Agent
from strands.models.model import Model
from strands.tools.mcp import MCPClient
from strands.tools.mcp.mcp_agent_tool import MCPAgentTool
from strands.types.content import ContentBlock, Message, Messages
from strands.types.tools import ToolResult

from ._errors import AgentRunError, ConfigurationError, SessionBusyError, SessionClosedError, ToolServerError
from ._exchange_auth import ExchangedTokenAuth
from .events import ChatEvent, Final, TextDelta, ToolResultEvent
from .guard import CallLog, PolicyChecker, PolicyGuard
from .models.selection import select_model

__all__ = ["AgentFactory", "AgentSession", "PromptBuilder"]

logger = logging.getLogger(__name__)

PromptBuilder = Callable[[Principal], str]
"""Builds the system prompt for a principal (a domain's prompt builder)."""

TokenExchange = Callable[[Principal, str], str]
"""Mints a short-lived MCP access token for (principal, conversation id): RFC 8693 token exchange,
e.g. ``bastion_policies.TokenExchanger.exchange``."""

_RUN_FAILED = "The assistant could not answer right now (model or tool server failure). Please try again."


class AgentSession:
    """One principal's conversation: an agent bound to that principal's tools.

    Use it as a context manager or call :meth:`close`; closing ends the MCP connection. One message is
    answered at a time (:meth:`ask` raises :class:`SessionBusyError` while another is running).

    Attributes:
        session_id: The session's id.
        principal: Who the session acts for (fixed for its lifetime).
        bound_tools: Names of the tools the agent was built with, sorted.
    """

    def __init__(
        self,
        *,
        session_id: str,
        principal: Principal,
        agent: Agent,
        client: MCPClient,
        log: CallLog,
        bound_tools: tuple[str, ...],
        preview_chars: int,
    ) -> None:
        self.session_id = session_id
        self.principal = principal
        self.bound_tools = bound_tools
        self._agent = agent
        self._client = client
        self._log = log
        self._preview_chars = preview_chars
        self._busy = False
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def history(self) -> Messages:
        """A copy of the conversation so far (to reopen the session with a fresh token)."""
        return list(self._agent.messages)

    @property
    def busy(self) -> bool:
        """Whether a message is being answered."""
        return self._busy

    async def ask(self, message: str) -> AsyncIterator[ChatEvent]:
        """Send one user message and stream the turn's events.

        Args:
            message: The user's text.

        Yields:
            :class:`TextDelta`, :class:`ToolCallEvent`, :class:`PolicyDenialEvent`,
            :class:`ToolResultEvent` as they happen, then one :class:`Final`.

        Raises:
            SessionClosedError: The session was closed.
            SessionBusyError: Another message is still being answered.
            AgentRunError: The model or the tool server failed (safe message; details are logged).
        """
        if self._closed:
            raise SessionClosedError("This chat session has ended; start a new one.")
        if self._busy:
            raise SessionBusyError("This session is still answering the previous message; wait for it.")
        self._busy = True
        self._log.drain()
        final_text = ""
        try:
            async for event in self._agent.stream_async(message):
                for recorded in self._log.drain():
                    yield recorded
                if "data" in event and isinstance(event["data"], str):
                    if event["data"]:
                        yield TextDelta(event["data"])
                elif "message" in event:
                    for produced in self._from_message(event["message"]):
                        yield produced
                elif "result" in event:
                    final_text = _text_of(getattr(event["result"], "message", None))
            for recorded in self._log.drain():
                yield recorded
        except (SessionBusyError, SessionClosedError):
            raise
        except Exception as exc:
            logger.warning("session_id=<%s> | agent turn failed", self.session_id, exc_info=True)
            raise AgentRunError(_RUN_FAILED) from exc
        finally:
            self._busy = False
        yield Final(final_text)

    def _from_message(self, message: Message) -> list[ChatEvent]:
        produced: list[ChatEvent] = []
        if message.get("role") != "user":
            return produced
        for block in message.get("content", []):
            if "toolResult" not in block:
                continue
            result: ToolResult = block["toolResult"]
            call_id = result.get("toolUseId", "")
            tool = self._log.tool_names.get(call_id, "")
            ok = result.get("status") == "success"
            text = _result_text(result)
            produced.append(ToolResultEvent(tool, ok, _preview(text, self._preview_chars), call_id))
        return produced

    def close(self) -> None:
        """End the session and its MCP connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._client.stop(None, None, None)
        except Exception:
            logger.warning(
                "session_id=<%s> | MCP client did not stop cleanly", self.session_id, exc_info=True
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AgentFactory:
    """Builds one :class:`AgentSession` per principal, bound to the tools the MCP server lists for them.

    Args:
        mcp_url: The MCP server's streamable-HTTP URL, e.g. ``http://127.0.0.1:8765/mcp``.
        model: A Strands model, or a setting string for :func:`~bastion_agents.select_model` (built
            once here and shared by all sessions).
        system_prompt: A fixed prompt, or a function of the principal (the domain's prompt builder).
        engine: Policy engine for the agent-side pre-check of every call (portable policies); None
            turns that pre-check off (the server still decides).
        token_exchange: Mints the MCP access token of a conversation (the user as subject, this
            runtime as actor, a signed session claim), called for every MCP request so a user-token
            refresh never changes the session. None sends the user's own token (no session claim).
        model_options: Keyword arguments for :func:`~bastion_agents.select_model` when ``model`` is a
            string (region, model_path, ...).
        mcp_startup_timeout: Seconds to wait for the MCP connection.
        preview_chars: Length of :attr:`ToolResultEvent.content_preview`.
        agent_name: Name given to the Strands agents.

    Raises:
        ConfigurationError: Bad ``mcp_url`` or model setting.
    """

    def __init__(
        self,
        *,
        mcp_url: str,
        model: str | Model,
        system_prompt: str | PromptBuilder,
        engine: PolicyChecker | None,
        token_exchange: TokenExchange | None = None,
        model_options: Mapping[str, Any] | None = None,
        mcp_startup_timeout: int = 15,
        preview_chars: int = 300,
        agent_name: str = "bastion-agent",
    ) -> None:
        if not mcp_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"mcp_url must be an http(s) URL, got {mcp_url!r}")
        self._mcp_url = mcp_url
        self._model = select_model(model, **dict(model_options or {})) if isinstance(model, str) else model
        self._system_prompt = system_prompt
        self._engine = engine
        self._token_exchange = token_exchange
        self._startup_timeout = mcp_startup_timeout
        self._preview_chars = preview_chars
        self._agent_name = agent_name

    @property
    def model(self) -> Model:
        """The model shared by all sessions."""
        return self._model

    def open(
        self,
        principal: Principal,
        token: str,
        session_id: str | None = None,
        *,
        history: Messages | None = None,
    ) -> AgentSession:
        """Connect to the MCP server as ``principal`` and build its agent.

        Blocking (it waits for the MCP handshake and the tool list): from async code, run it in a
        worker thread.

        Args:
            principal: The verified principal (its identity is used for every policy check).
            token: The principal's bearer JWT, sent to the MCP server on every request.
            session_id: The session id; a new random one when None.
            history: Earlier messages of this conversation (e.g. :attr:`AgentSession.history` of a
                session reopened with a fresh token).

        Returns:
            The session (close it when done).

        Raises:
            ToolServerError: The MCP server could not be reached or refused the token.
        """
        sid = session_id or uuid.uuid4().hex
        exchange = self._token_exchange
        if exchange is not None:
            auth = ExchangedTokenAuth(lambda: exchange(principal, sid))
            client = MCPClient(
                url=self._mcp_url,
                auth_provider=auth,
                startup_timeout=self._startup_timeout,
                application_name=self._agent_name,
            )
        else:
            client = MCPClient(
                url=self._mcp_url,
                headers={"Authorization": f"Bearer {token}"},
                startup_timeout=self._startup_timeout,
                application_name=self._agent_name,
            )
        try:
            client.start()
            tools = _list_tools(client)
        except Exception as exc:
            logger.warning("session_id=<%s> | MCP connection failed", sid, exc_info=True)
            try:
                client.stop(None, None, None)
            except Exception:
                logger.debug("session_id=<%s> | MCP client stop after failure raised", sid, exc_info=True)
            raise ToolServerError(
                "Could not connect to the tool server (it may be down, or the token was refused)."
            ) from exc

        log = CallLog()
        guard = PolicyGuard(principal=principal, engine=self._engine, session_id=sid, log=log)
        prompt = (
            self._system_prompt if isinstance(self._system_prompt, str) else self._system_prompt(principal)
        )
        agent = Agent(
            model=self._model,
            tools=list(tools),
            system_prompt=prompt,
            hooks=[guard],
            callback_handler=None,
            name=self._agent_name,
            agent_id=f"session-{sid}",
            messages=list(history) if history else None,
        )
        bound = tuple(sorted(tool.tool_name for tool in tools))
        logger.debug("session_id=<%s>, user=<%s>, tools=<%s> | session opened", sid, principal.user_id, bound)
        return AgentSession(
            session_id=sid,
            principal=principal,
            agent=agent,
            client=client,
            log=log,
            bound_tools=bound,
            preview_chars=self._preview_chars,
        )


def _list_tools(client: MCPClient) -> list[MCPAgentTool]:
    tools: list[MCPAgentTool] = []
    token: str | None = None
    while True:
        page = client.list_tools_sync(token)
        tools.extend(page)
        token = page.pagination_token
        if token is None:
            return tools


def _result_text(result: ToolResult) -> str:
    texts = [item["text"] for item in result.get("content", []) if "text" in item]
    return "\n".join(texts)


def _text_of(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    blocks: list[ContentBlock] = message.get("content", [])  # pyright: ignore[reportUnknownMemberType]
    return "".join(block["text"] for block in blocks if "text" in block)


def _preview(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
