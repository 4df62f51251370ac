"""The system under test for ``bench.peak``: its own ``resort up --api-workers 2`` on private ports and a
private data folder (or a running one, ``--attach``), and the CPU every process of it spent.

CPU is read from ``/proc``: each unit of ``stack.json`` (the api, each role, each server ``resort up``
started) runs in a process group of its own, so a unit's CPU is the user + system time of every live
process of its group plus what its exited children left to the leader (PostgreSQL's backends, uvicorn's
workers)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from app.settings import PROJECT_ROOT

TICKS = os.sysconf("SC_CLK_TCK")
BUDGETS = {
    "RESORT_RATE_LIMIT_API_PER_MINUTE": "100000000",
    "RESORT_HOLD_RATE_PER_MINUTE": "100000000",
    "RESORT_HOLD_MAX_ACTIVE_PER_USER": "100000000",
    "RESORT_HOLD_MAX_ACTIVE_PER_PARTNER": "100000000",
    "RESORT_RATE_LIMIT_BAD_TOKENS_PER_MINUTE": "100000000",
    "RESORT_LOG_LEVEL": "WARNING",
    "RESORT_SEED_ON_UP": "false",
    "RESORT_ACCESS_TOKEN_TTL": "3600",  # a scenario at C = 256 can outlast the default 5 minutes
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_env(data_dir: Path) -> dict[str, str]:
    api = _free_port()
    return {**os.environ, **BUDGETS,
            "RESORT_DATA_DIR": str(data_dir), "RESORT_API_PORT": str(api), "RESORT_PUBLIC_URL": f"http://127.0.0.1:{api}",
            "RESORT_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_free_port()}/resort",
            "RESORT_REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0",
            "RESORT_KAFKA_BOOTSTRAP": f"127.0.0.1:{_free_port()}",
            "RESORT_MONGO_URL": f"mongodb://127.0.0.1:{_free_port()}",
            "RESORT_ELASTICSEARCH_URL": f"http://127.0.0.1:{_free_port()}",
            "RESORT_OIDC_ISSUER": f"http://127.0.0.1:{_free_port()}",
            "RESORT_PAYMENT_PROVIDER_URL": f"http://127.0.0.1:{_free_port()}"}


def _ready(env: dict[str, str]) -> bool:
    url = f"http://127.0.0.1:{env['RESORT_API_PORT']}/health/ready"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def own_stack(api_workers: int) -> Iterator[dict[str, str]]:
    """``resort up --api-workers N --no-seed`` on private ports; stopped (and its data removed) on exit."""
    data_dir = PROJECT_ROOT / ".data" / "private" / f"peak-{uuid.uuid4().hex[:8]}"
    env = private_env(data_dir)
    log = (PROJECT_ROOT / ".data" / "logs")
    log.mkdir(parents=True, exist_ok=True)
    with (log / "bench-peak-up.log").open("w") as out:
        up = subprocess.Popen([sys.executable, "-m", "app.cli", "up", "--no-seed", "--api-workers", str(api_workers)],
                              env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 240
        while not (_ready(env) and all_roles_running(data_dir)):
            if up.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"resort up did not come up; see {log / 'bench-peak-up.log'}")
            time.sleep(0.5)
        yield env
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(up.pid, signal.SIGINT)
        up.wait(90)
        shutil.rmtree(data_dir, ignore_errors=True)


def all_roles_running(data_dir: Path) -> bool:
    try:
        units = json.loads((data_dir / "stack.json").read_text())["units"]
    except (OSError, ValueError, KeyError):
        return False
    return bool(units) and all(u.get("state") in ("running", "reused") for u in units)


def units(data_dir: Path) -> dict[str, int]:
    """Unit name -> process group (its leader's pid) of the running stack."""
    document = json.loads((data_dir / "stack.json").read_text())
    return {u["name"]: u["pid"] for u in document["units"] if u.get("pid")}


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its children it has reaped)."""
    out: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(entry)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / TICKS)
    return out


def cpu_seconds(leaders: dict[str, int]) -> dict[str, float]:
    """CPU seconds spent so far by each unit: every live process of its tree (its leader and descendants,
    PostgreSQL's backends under its postmaster too), each with what its reaped children spent."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    spent = {}
    for name, leader in leaders.items():
        total, todo = 0.0, [leader]
        while todo:
            pid = todo.pop()
            total += processes.get(pid, (0, 0.0))[1]
            todo += children.get(pid, [])
        spent[name] = total
    return spent
