"""A real ``redis-server`` on a free 127.0.0.1 port for the Redis session store's tests.

Import the fixture into a test module (``from _redis_server import redis_url``). ``./scripts/test``
installs ``redis-server`` when it is missing; without it the fixture fails (tests are never skipped).
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

_READY = b"Ready to accept connections"
_START_TIMEOUT_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(proc: subprocess.Popen[bytes]) -> None:
    """Read the server's log until it says it is ready (no sleeping; bounded by a deadline)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while _READY not in seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                pytest.fail(f"redis-server did not start within {_START_TIMEOUT_SECONDS:.0f} s")
            chunk = os.read(proc.stdout.fileno(), 65536)  # unbuffered: select() sees all that is unread
            if not chunk:
                log = seen[-500:].decode(errors="replace")
                pytest.fail(f"redis-server exited early (code {proc.wait()}): {log}")
            seen += chunk


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``redis://127.0.0.1:<port>/0`` of a throw-away redis-server (no persistence), stopped at the end."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; run ./scripts/test, which installs it (apt-get).")
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 - a fixed argument list, the binary found on PATH
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
    )
    try:
        _wait_until_ready(proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
