"""``resort up``: servers, migrations, demo data, then the api and every worker role, supervised."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

from app.settings import Settings
from app.stack.servers import http_ok, port_free
from app.stack.state import StackBusy, StackState
from app.stack.supervise import RestartPolicy, Supervisor, Unit
from app.stack.supervisor import LocalStack


def refuse_if_running(settings: Settings, state: StackState) -> None:
    """Raise :class:`StackBusy` when another ``resort up`` owns this data folder or the api's port."""
    state.acquire()
    if not port_free(settings.api_host, settings.api_port):
        state.release()
        raise StackBusy(
            f"the api's address {settings.api_host}:{settings.api_port} is already in use (another `resort up`"
            " with another data folder, or another program); free it or set RESORT_API_PORT"
        )


def parse_scale(text: str, roles: list[str]) -> dict[str, int]:
    """``api=3,saga=2`` -> instances per role (1 for every role not named); ValueError naming the fault."""
    scale = dict.fromkeys(["api", *roles], 1)
    for item in filter(None, (part.strip() for part in text.split(","))):
        role, _, count = item.partition("=")
        if role.strip() not in scale:
            raise ValueError(f"unknown role {role.strip()!r} in --scale; known: {', '.join(scale)}")
        if not count.strip().isdigit() or int(count) < 1:
            raise ValueError(f"--scale {item!r}: the count must be a whole number >= 1")
        scale[role.strip()] = int(count)
    return scale


def role_units(settings: Settings, roles: list[str], api_workers: int,
               scale: dict[str, int] | None = None) -> list[Unit]:
    """The api (with ``api_workers`` uvicorn workers, or ``scale["api"]`` processes sharing its port with
    SO_REUSEPORT) and ``scale[role]`` processes per worker role (one each by default), each instance with
    its own log and metrics port (``saga-2``...)."""
    logs = settings.data_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)  # every server may be reused: nothing else made the folder
    base = dict(os.environ)
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    scale = scale or {}
    units, metrics_index = [], 0
    for role in ["api", *roles]:
        count = scale.get(role, 1)
        for instance in range(1, count + 1):
            name = role if count == 1 else f"{role}-{instance}"
            if role == "api":
                env = {**base, "RESORT_API_WORKERS": str(api_workers)}
                if count > 1:
                    env.update(RESORT_API_WORKERS="1", RESORT_API_REUSE_PORT="true")
                port = settings.api_port
            else:
                metrics_index += 1
                port = 9100 + metrics_index
                env = {**base, "RESORT_WORKER_METRICS_PORT": str(port)}
            units.append(Unit(
                name, "role", lambda role=role: [sys.executable, "-m", "app.cli", "run", role],
                lambda env=env: env, logs / f"{name}.log", port,
                probe=(lambda: http_ok(f"{api_url}/health/live", timeout=1)) if role == "api" else None,
                ready_note=f" on {api_url}; docs at {api_url}/docs; Ctrl-C stops all" if role == "api" else "",
                role=role,
            ))
    return units


def run_up(settings: Settings, *, seed: bool, api_workers: int, stop: object,
           report: Callable[[str], None], scale: str = "") -> None:
    """Start everything, then supervise until ``stop``; the caller stops ``stack`` on the way out."""
    from app.db.migrate import migrate as run_migrations
    from app.stack import local_servers
    from app.worker import available_roles

    api_url = f"http://{settings.api_host}:{settings.api_port}"
    counts = parse_scale(scale, available_roles())
    state = StackState(settings.data_path, api_url)
    refuse_if_running(settings, state)
    stack = LocalStack(local_servers(settings), on_progress=report)
    try:
        stack.start_servers()
        asyncio.run(run_migrations(settings.database_url))
        if seed:
            _seed_if_empty(settings)
        supervisor = Supervisor(stack, RestartPolicy.from_settings(settings), state, report)
        supervisor.adopt_servers()
        for unit in role_units(settings, available_roles(), api_workers, counts):
            supervisor.start(unit)
            metrics = "" if unit.role == "api" else f", metrics on :{unit.port}/metrics"
            workers = f", {api_workers} worker(s) on {api_url}" if unit.name == "api" else ""
            report(f"{unit.name}: started (log: {unit.log_path}{workers}{metrics})")
        stop.running = True  # type: ignore[attr-defined]
        supervisor.run(stop)
    finally:
        stop.running = True  # type: ignore[attr-defined]  # a second Ctrl-C must not interrupt the stop
        stack.stop()
        state.release()


def _seed_if_empty(settings: Settings) -> None:
    try:
        from app.catalog.seed import seed_if_empty
    except ImportError:
        return
    if asyncio.run(seed_if_empty(settings, progress=True)) is not None:
        from app.activity.seed import seed_activity

        asyncio.run(seed_activity(settings))
