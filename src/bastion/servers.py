"""Run several ASGI apps under uvicorn in one background thread, on loopback sockets.

Sockets are bound before the apps are built, so a port of 0 (pick a free one) still gives every app
its final URL up front. `ServerGroup.start` returns once every server has finished its start-up (or
raises `ServerStartError`), so callers never poll or sleep.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn
from bastion_core import BastionError
from starlette.types import ASGIApp

__all__ = ["BoundSocket", "ServerGroup", "ServerStartError", "bind_loopback"]

logger = logging.getLogger(__name__)

_START_TIMEOUT_S = 60.0


class ServerStartError(BastionError, RuntimeError):
    """A server could not start (port in use, app start-up failed). The message says which."""


@dataclass
class BoundSocket:
    """A listening TCP socket on loopback.

    Attributes:
        sock: The bound socket (not yet listening; uvicorn calls listen()).
        host: The interface it is bound to.
        port: The port actually bound (resolved when 0 was asked for).
    """

    sock: socket.socket
    host: str
    port: int

    @property
    def base_url(self) -> str:
        """``http://host:port`` for this socket."""
        return "http://%s:%d" % (self.host, self.port)


def bind_loopback(host: str, port: int) -> BoundSocket:
    """Bind a TCP socket on a loopback interface.

    Args:
        host: ``127.0.0.1``, ``localhost`` or ``::1``.
        port: Port number; 0 picks a free port.

    Returns:
        The bound socket with its resolved port.

    Raises:
        ServerStartError: The port is in use or the address is not available.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket says it is TCP, and without it every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(
            "cannot bind %s:%d (%s); stop whatever uses it or choose another port"
            % (host, port, exc.strerror)
        ) from exc
    return BoundSocket(sock=sock, host=host, port=sock.getsockname()[1])


class _ReadyServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._on_ready()


@dataclass
class ServerGroup:
    """ASGI apps served together by one event loop in a daemon thread.

    Usage::

        group = ServerGroup()
        group.add("legacy", legacy_app, bound)
        group.start()
        ...
        group.stop()
    """

    log_level: str = "warning"
    _entries: list[tuple[str, ASGIApp, BoundSocket]] = field(default_factory=list)
    _servers: list[_ReadyServer] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _error: BaseException | None = None

    def add(self, name: str, app: ASGIApp, bound: BoundSocket) -> None:
        """Register an app to serve on an already-bound socket."""
        self._entries.append((name, app, bound))

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the apps run on (valid after `start`)."""
        if self._loop is None:
            raise RuntimeError("ServerGroup.start() has not been called")
        return self._loop

    def start(self) -> None:
        """Start every server and wait until each has completed its start-up.

        Raises:
            ServerStartError: A server failed to start or did not start within 60 s.
        """
        ready = [threading.Event() for _ in self._entries]
        for (_, app, _bound), event in zip(self._entries, ready, strict=True):
            config = uvicorn.Config(app, log_level=self.log_level, lifespan="auto", access_log=False)
            self._servers.append(_ReadyServer(config, event.set))
        self._thread = threading.Thread(target=self._run, name="bastion-servers", daemon=True)
        self._thread.start()
        for (name, _app, bound), event, server in zip(self._entries, ready, self._servers, strict=True):
            if not event.wait(_START_TIMEOUT_S) or not server.started:
                self.stop()
                detail = " (%s)" % self._error if self._error else ""
                raise ServerStartError("%s did not start on %s%s" % (name, bound.base_url, detail))
            logger.debug("server=<%s>, url=<%s> | started", name, bound.base_url)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve_all())
        except BaseException as exc:  # the thread must not die silently
            self._error = exc
            logger.exception("server group stopped with an error")
        finally:
            loop.close()

    async def _serve_all(self) -> None:
        tasks = [
            server.serve(sockets=[bound.sock])
            for server, (_, _, bound) in zip(self._servers, self._entries, strict=True)
        ]
        await asyncio.gather(*tasks)

    def stop(self) -> None:
        """Ask every server to shut down and wait for the thread (at most 30 s)."""
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        for _, _, bound in self._entries:
            bound.sock.close()

    def wait(self) -> None:
        """Block until the servers stop (e.g. on Ctrl-C in ``bastion serve``)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(timeout=1.0)
