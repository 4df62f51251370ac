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


def role_units(settings: Settings, roles: list[str], api_workers: int) -> list[Unit]:
    """The api (with ``api_workers`` uvicorn workers) and one process per worker role."""
    logs = settings.data_path / "logs"
    base = dict(os.environ)
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    units = []
    for index, role in enumerate(["api", *roles]):
        if role == "api":
            env, port = {**base, "RESORT_API_WORKERS": str(api_workers)}, settings.api_port
        else:
            env, port = {**base, "RESORT_WORKER_METRICS_PORT": str(9100 + index)}, 9100 + index
        units.append(Unit(
            role, "role", lambda role=role: [sys.executable, "-m", "app.cli", "run", role],
            lambda env=env: env, logs / f"{role}.log", port,
            probe=(lambda: http_ok(f"{api_url}/health/live", timeout=1)) if role == "api" else None,
            ready_note=f" on {api_url}; docs at {api_url}/docs; Ctrl-C stops all" if role == "api" else "",
        ))
    return units


def run_up(settings: Settings, *, seed: bool, api_workers: int, stop: object,
           report: Callable[[str], None]) -> None:
    """Start everything, then supervise until ``stop``; the caller stops ``stack`` on the way out."""
    from app.db.migrate import migrate as run_migrations
    from app.stack import local_servers
    from app.worker import available_roles

    api_url = f"http://{settings.api_host}:{settings.api_port}"
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
        for unit in role_units(settings, available_roles(), api_workers):
            supervisor.start(unit)
            metrics = "" if unit.name == "api" else f", metrics on :{unit.port}/metrics"
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
