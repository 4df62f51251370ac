"""The api process's graceful stop (SIGTERM), shared by the server loop and the features.

On SIGTERM :func:`serve` (``resort run api`` with one worker) marks the process as draining, so
``/health/ready`` answers 503 and a load balancer stops sending new requests (it keeps serving for
``RESORT_API_DRAIN_DELAY_S`` while they notice); runs every hook the features
registered (``/live`` sends each client a ``reconnect`` frame with its resume position and closes 1012),
bounded by ``RESORT_LIVE_DRAIN_S``; then lets uvicorn stop: it stops accepting connections, finishes the
requests in flight within ``RESORT_API_SHUTDOWN_TIMEOUT_S``, runs the lifespan's shutdown, and the process
exits 0. A second SIGTERM or SIGINT stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from types import FrameType

import structlog

from app.settings import Settings

log = structlog.get_logger("app.drain")
Hook = Callable[[], Awaitable[object]]


class Drain:
    """Whether this process is stopping, and what to do first when it starts to."""

    def __init__(self) -> None:
        self.active = False
        self.hooks: list[Hook] = []

    async def run(self, timeout: float) -> None:
        self.active = True
        log.info("api_draining", hooks=len(self.hooks))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(hook() for hook in self.hooks), return_exceptions=True)


DRAIN = Drain()  # one api app per process


def _server_class() -> type:
    import uvicorn

    class GracefulServer(uvicorn.Server):
        """uvicorn's server, with the drain run before its own stop on the first SIGTERM."""

        def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
            super().__init__(config)
            self.settings = settings
            self.loop: asyncio.AbstractEventLoop | None = None
            self.draining: asyncio.Future[None] | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            self.loop = asyncio.get_running_loop()
            await super().startup(sockets)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if sig != signal.SIGTERM or self.draining is not None or self.loop is None or self.should_exit:
                super().handle_exit(sig, frame)
                return
            self.loop.call_soon_threadsafe(self._begin)

        def _begin(self) -> None:
            if self.draining is None:
                self.draining = asyncio.ensure_future(self._drain())

        async def _drain(self) -> None:
            DRAIN.active = True  # /health/ready: 503 from now on
            await asyncio.sleep(self.settings.api_drain_delay_s)  # still serving while balancers notice
            if self.settings.api_reuse_port:  # the other instances on the port take every new connection now
                for server in getattr(self, "servers", []):
                    server.close()
            await DRAIN.run(self.settings.live_drain_s)
            self.should_exit = True  # uvicorn: stop accepting, finish in-flight requests, lifespan shutdown

    return GracefulServer


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """The api's listening socket with SO_REUSEPORT: several api processes share one port, and the kernel
    spreads new connections over those still listening (a stopping one closes its socket first)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class LazyReusePortSockets(list):  # type: ignore[type-arg]
    """uvicorn's ``sockets``: the reuse-port socket is bound when uvicorn first iterates them, which is after
    the app's start-up, so the kernel never hands a connection to an instance that cannot answer yet."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port

    def __iter__(self):  # type: ignore[no-untyped-def]
        if not len(self):
            self.append(reuse_port_socket(self.host, self.port))
        return super().__iter__()


def serve(config_kwargs: dict[str, object], settings: Settings) -> None:
    """Run one api process until SIGTERM (drained) or SIGINT; exit 0 after a graceful stop."""
    import uvicorn

    config = uvicorn.Config(**config_kwargs)  # type: ignore[arg-type]
    server = _server_class()(config, settings)
    sockets = LazyReusePortSockets(settings.api_host, settings.api_port) if settings.api_reuse_port else None
    server.run(sockets=sockets)
    if server.draining is not None:
        log.info("api_stopped", graceful=True)
        sys.exit(0)
