"""A small MCP client helper: connect to a Bastion MCP server with a user's bearer token."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from bastion_mcp import SESSION_HEADER
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult, TextContent

__all__ = ["connect", "result_text"]


@asynccontextmanager
async def connect(url: str, token: str, *, session_id: str | None = None) -> AsyncGenerator[Client]:
    """Open an MCP session over streamable HTTP that carries ``Authorization: Bearer <token>``.

    Args:
        url: The server's streamable-HTTP endpoint (e.g. ``http://127.0.0.1:8102/mcp``).
        token: The user's JWT.
        session_id: The conversation these calls belong to, sent as ``x-bastion-session-id`` so the
            server can apply per-session rules (e.g. one customer per support session).

    Yields:
        A connected `mcp.client.Client`.
    """
    headers = {"Authorization": "Bearer " + token}
    if session_id is not None:
        headers[SESSION_HEADER] = session_id
    http = create_mcp_http_client(headers=headers)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


def result_text(result: CallToolResult) -> str:
    """The concatenated text content of a tool result."""
    return "".join(block.text for block in result.content if isinstance(block, TextContent))
