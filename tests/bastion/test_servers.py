"""ServerGroup and bind_loopback: apps served on loopback, clear errors for taken ports."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bastion.servers import ServerGroup, ServerStartError, bind_loopback


def _hello(_: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def test_group_serves_apps_on_ephemeral_loopback_ports() -> None:
    bound = bind_loopback("127.0.0.1", 0)
    assert bound.port != 0
    group = ServerGroup()
    group.add("hello", Starlette(routes=[Route("/", _hello)]), bound)
    group.start()
    try:
        with httpx.Client(base_url=bound.base_url) as client:
            assert [client.get("/").text for _ in range(3)] == ["hello"] * 3
    finally:
        group.stop()


def test_sockets_are_tcp_so_accepted_connections_get_nodelay() -> None:
    # asyncio sets TCP_NODELAY on accepted sockets only when proto is IPPROTO_TCP; with proto 0 every
    # keep-alive request waited ~40 ms for a delayed ACK (scripts/bench_mcp_roundtrip.py shows it).
    bound = bind_loopback("127.0.0.1", 0)
    try:
        assert bound.sock.proto == socket.IPPROTO_TCP
    finally:
        bound.sock.close()


def test_a_taken_port_is_a_clear_error() -> None:
    first = bind_loopback("127.0.0.1", 0)
    first.sock.listen()
    try:
        with pytest.raises(ServerStartError, match="cannot bind 127.0.0.1:%d" % first.port):
            bind_loopback("127.0.0.1", first.port)
    finally:
        first.sock.close()
