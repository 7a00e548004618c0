"""A small MCP client helper: connect to a Bastion MCP server with a user's bearer token."""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from functools import cache

import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

__all__ = ["connect", "result_text"]


@cache
def _ssl_context() -> ssl.SSLContext:
    # One context per process: building one costs ~17 ms, and a new client per MCP connection
    # would otherwise pay it every time (even on plain-HTTP loopback).
    return ssl.create_default_context()


@asynccontextmanager
async def connect(url: str, token: str) -> AsyncGenerator[Client]:
    """Open an MCP session over streamable HTTP that carries ``Authorization: Bearer <token>``.

    The session a call belongs to travels inside the token (a signed ``sid`` claim minted by token
    exchange), never as a header of the client's choosing.

    Args:
        url: The server's streamable-HTTP endpoint (e.g. ``http://127.0.0.1:8102/mcp``).
        token: A user's JWT or an exchanged MCP access token.

    Yields:
        A connected `mcp.client.Client`.
    """
    headers = {"Authorization": "Bearer " + token}
    http = httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(30.0, read=300.0),
        follow_redirects=True,
        verify=_ssl_context(),
    )
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


def result_text(result: CallToolResult) -> str:
    """The concatenated text content of a tool result."""
    return "".join(block.text for block in result.content if isinstance(block, TextContent))
