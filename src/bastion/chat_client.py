"""A client for the chat endpoint (``POST /v1/chat``, server-sent events), and the terminal chat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import typer
from bastion_core import BastionError
from httpx_sse import SSEError, connect_sse

__all__ = ["ChatClientError", "ChatEvent", "interactive_chat", "stream_chat"]

_TIMEOUT = httpx.Timeout(connect=5.0, read=600.0, write=30.0, pool=5.0)


class ChatClientError(BastionError, RuntimeError):
    """The chat endpoint could not be reached or refused the request; the message says why."""


@dataclass(frozen=True)
class ChatEvent:
    """One server-sent event from the chat endpoint.

    Attributes:
        event: Event name (``session``, ``text``, ``tool_call``, ``tool_result``, ``policy_denial``,
            ``done``, ``error``).
        data: The event's JSON payload.
    """

    event: str
    data: dict[str, Any]


def stream_chat(
    base_url: str,
    token: str,
    message: str,
    session_id: str | None = None,
    *,
    client: httpx.Client | None = None,
) -> Iterator[ChatEvent]:
    """Send one user message and yield the endpoint's events as they arrive.

    Args:
        base_url: Chat endpoint base URL (``http://127.0.0.1:8103``).
        token: The user's bearer JWT.
        message: The user's message.
        session_id: Continue this session; None starts a new one (its id arrives in ``session``).
        client: An httpx client to use (tests pass one with a mock transport).

    Yields:
        `ChatEvent` values in order.

    Raises:
        ChatClientError: Connection failed, or the endpoint answered with an error status.
    """
    own = client is None
    http = client or httpx.Client(timeout=_TIMEOUT)
    body: dict[str, Any] = {"message": message}
    if session_id:
        body["session_id"] = session_id
    try:
        with connect_sse(
            http,
            "POST",
            base_url.rstrip("/") + "/v1/chat",
            json=body,
            headers={"Authorization": "Bearer " + token},
        ) as source:
            if source.response.status_code != 200:
                source.response.read()
                raise ChatClientError(_error_message(source.response))
            for sse in source.iter_sse():
                try:
                    data = json.loads(sse.data) if sse.data else {}
                except json.JSONDecodeError:
                    data = {"text": sse.data}
                yield ChatEvent(event=sse.event, data=data if isinstance(data, dict) else {"value": data})
    except SSEError as exc:
        raise ChatClientError("the chat endpoint did not answer with an event stream") from exc
    except httpx.TransportError as exc:
        raise ChatClientError(
            "cannot reach the chat endpoint at %s (%s); is `bastion serve` running?"
            % (base_url, type(exc).__name__)
        ) from exc
    finally:
        if own:
            http.close()


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return "HTTP %d: %s" % (response.status_code, body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return "HTTP %d from the chat endpoint" % response.status_code


def interactive_chat(base_url: str, token: str) -> None:
    """Read lines from the terminal, print the agent's replies, tool calls and denials; ``/quit`` ends.

    Raises:
        ChatClientError: As `stream_chat`.
    """
    session_id: str | None = None
    typer.echo("Chatting with %s — type /quit to leave." % base_url)
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if line in {"/quit", "/exit"}:
            return
        if not line:
            continue
        for event in stream_chat(base_url, token, line, session_id):
            if event.event == "session":
                session_id = str(event.data.get("session_id") or session_id)
            elif event.event == "text":
                typer.echo(str(event.data.get("text", "")), nl=False)
            elif event.event == "tool_call":
                typer.secho(
                    "\n  [tool] %s %s" % (event.data.get("tool"), json.dumps(event.data.get("arguments"))),
                    fg=typer.colors.CYAN,
                )
            elif event.event == "policy_denial":
                typer.secho("\n  [denied] %s" % event.data.get("reason"), fg=typer.colors.RED)
            elif event.event == "error":
                typer.secho("\n  [error] %s" % event.data.get("message"), fg=typer.colors.RED)
            elif event.event == "done":
                typer.echo("")
