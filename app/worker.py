"""The worker loop every background role plugs into: open resources, run the roles, stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import socket
from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import start_http_server

from app.resources import Resources, open_resources
from app.settings import Settings, get_settings
from app.tracing import setup as tracing_setup

log = structlog.get_logger("app.worker")

RoleFn = Callable[[Resources, asyncio.Event], Awaitable[None]]

# Role name -> "module:function". A role is ``async def run(resources, stop) -> None`` that returns
# soon after ``stop`` is set. Later roles (saga, services, sweeper) plug in here.
ROLES: dict[str, str] = {
    "relay": "sync.relay:run",
    "projector": "sync.projector:run",
    "sweeper": "sagas.sweeper:run",
    "saga": "sagas.orchestrator:run",
    "services": "sagas.participants:run",
    "booking-views": "app.bookings.views:run",
    "publisher": "realtime.publisher:run",
    "activity": "app.activity.ingest:run",
    "recommend-cache": "app.recommend.invalidation:run",
    "frontdesk-views": "app.frontdesk.views:run",
}
HEARTBEAT_S = 5


def role_table() -> dict[str, str]:
    """``ROLES`` plus the settings' ``extra_roles`` ("name=module:function", e.g. a plug-in)."""
    extra = dict(item.split("=", 1) for item in get_settings().extra_roles)
    return {**ROLES, **{name.strip(): target.strip() for name, target in extra.items()}}


def load_role(name: str) -> RoleFn:
    table = role_table()
    if name not in table:
        raise KeyError(f"unknown role {name!r}; known: {', '.join(sorted(table))}")
    module, _, attr = table[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def available_roles() -> list[str]:
    """Roles whose module is present in this build: ``resort up`` runs one process for each."""
    found = []
    for name in role_table():
        with contextlib.suppress(ImportError, AttributeError):
            load_role(name)
            found.append(name)
    return found


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile: a role's pause between rounds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


async def _heartbeat(resources: Resources, roles: list[str], stop: asyncio.Event) -> None:
    """Each role's liveness, visible to operators as ``worker:<role>:<host>:<pid>`` keys with a TTL."""
    ident = f"{socket.gethostname()}:{os.getpid()}"
    keys = [f"worker:{role}:{ident}" for role in roles]
    try:
        while not stop.is_set():
            with contextlib.suppress(Exception):
                for key in keys:
                    await resources.redis.set(key, "alive", ex=HEARTBEAT_S * 3)
            await sleep_or_stop(stop, HEARTBEAT_S)
    finally:
        # a process that stops (or whose role failed) must not look alive for the keys' TTL
        with contextlib.suppress(Exception):
            await asyncio.shield(resources.redis.delete(*keys))


async def run_worker(settings: Settings, roles: list[str]) -> None:
    """Run ``roles`` in this process until SIGINT or SIGTERM; cancel-and-await on the way out."""
    functions = {name: load_role(name) for name in roles}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.worker_metrics_port:
        try:
            start_http_server(settings.worker_metrics_port, addr=settings.api_host)
        except OSError as exc:  # a busy port costs the metrics, not the role
            log.warning("metrics_port_unavailable", port=settings.worker_metrics_port, error=str(exc))
    tracing_setup.configure(settings, roles[0] if len(roles) == 1 else "worker")
    try:
        await _run_roles(settings, roles, functions, stop)
    finally:
        tracing_setup.shutdown()  # the last spans exported on the way out
    log.info("worker_stopped", roles=roles)


async def _run_roles(settings: Settings, roles: list[str], functions: dict[str, RoleFn], stop: asyncio.Event) -> None:
    async with open_resources(settings) as resources:
        tasks = {asyncio.create_task(fn(resources, stop), name=name) for name, fn in functions.items()}
        tasks.add(asyncio.create_task(_heartbeat(resources, roles, stop), name="heartbeat"))
        log.info("worker_started", roles=roles)
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopper and t.exception() is not None]
        stop.set()
        # each role finishes its batch and commits its offsets, within the grace period's budget
        _, still = await asyncio.wait(tasks, timeout=settings.worker_stop_timeout_s)
        for task in still:
            task.cancel()
        await asyncio.gather(*still, return_exceptions=True)
        for task in failed:
            log.error("role_failed", role=task.get_name(), exc_info=task.exception())
        if failed:
            raise SystemExit(1)
