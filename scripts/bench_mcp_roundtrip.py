"""Round-trip latency over loopback: keep-alive HTTP on Bastion's server sockets, and MCP tool calls.

Part 1 serves the same trivial app twice, on a socket from `bastion.servers.bind_loopback` and on a
baseline socket created the naive way (`socket.socket(AF_INET, SOCK_STREAM)`, proto 0, on which asyncio
does not set TCP_NODELAY for accepted connections), and prints the median keep-alive request latency
of each and their ratio. Part 2 starts the retail stack (legacy API + MCP server) and prints the median
latency of MCP tool calls (`calculate`, and `get_order_details`, which also resolves the order's owner
and reaches the legacy API twice). Prints figures; asserts nothing.

Usage:

    uv run --no-sync python scripts/bench_mcp_roundtrip.py [--requests 50]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bastion.mcp_client import connect
from bastion.servers import BoundSocket, ServerGroup, bind_loopback
from bastion.settings import Settings
from bastion.stack import RetailStack


def _ok(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _naive_socket() -> BoundSocket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return BoundSocket(sock=sock, host="127.0.0.1", port=sock.getsockname()[1])


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def http_keepalive(requests: int) -> None:
    app = Starlette(routes=[Route("/", _ok)])
    sockets = {"bind_loopback": bind_loopback("127.0.0.1", 0), "naive socket (baseline)": _naive_socket()}
    group = ServerGroup()
    for name, bound in sockets.items():
        group.add(name, app, bound)
    group.start()
    medians: dict[str, float] = {}
    try:
        for name, bound in sockets.items():
            with httpx.Client(base_url=bound.base_url) as client:
                client.get("/")  # open the connection
                samples = []
                for _ in range(requests):
                    started = time.perf_counter()
                    client.get("/")
                    samples.append(time.perf_counter() - started)
            medians[name] = _median_ms(samples)
            print(f"keep-alive GET, {name:24} median {medians[name]:7.2f} ms over {requests} requests")
    finally:
        group.stop()
    baseline = medians["naive socket (baseline)"]
    print(f"speed-up over the baseline: {baseline / medians['bind_loopback']:.1f}x")


async def mcp_calls(stack: RetailStack, requests: int) -> None:
    token = stack.issuer.issue("bench", ["support_agent"])
    calls = {"calculate": {"expression": "1+1"}, "get_order_details": {"order_id": "#W2378156"}}
    async with connect(stack.urls.mcp, token) as client:
        for tool, arguments in calls.items():
            await client.call_tool(tool, arguments)  # warm up
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                await client.call_tool(tool, arguments)
                samples.append(time.perf_counter() - started)
            print(f"MCP tool call {tool:24} median {_median_ms(samples):7.2f} ms over {requests} calls")


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback round-trip latency figures.")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    http_keepalive(args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(state_dir=Path(tmp))
        with RetailStack(settings, model=None, ephemeral_ports=True) as stack:
            asyncio.run(mcp_calls(stack, args.requests))


if __name__ == "__main__":
    main()
