"""``resort status``: every server and role of the running ``resort up``, probed live."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from app.settings import Settings
from app.stack.servers import LocalServer
from app.stack.state import read_state

NO_STACK = 3


@dataclass
class Row:
    name: str
    kind: str
    pid: int | None
    port: int | None
    since: str
    restarts: int
    state: str
    readiness: str
    ready: bool


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def lock_held(lock_path: Path) -> bool:
    """Whether a ``resort up`` holds this data folder's lock now."""
    try:
        with open(lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def api_readiness(settings: Settings, api_url: str) -> tuple[bool, str]:
    """The api's operators' report (``/health/detail``): ready unless PostgreSQL or Redis is down, and what
    is degraded; the public ``/health/ready`` when the report is refused (a token this shell lacks)."""
    token = {"Authorization": f"Bearer {settings.health_token}"} if settings.health_token else {}
    for path in ("/health/detail", "/health/ready"):
        request = urllib.request.Request(f"{api_url}{path}", headers=token)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
                body = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 403:
                continue
            with contextlib.suppress(ValueError):
                return False, f"not ready ({exc.code}): down {', '.join(json.loads(exc.read()).get('failed', []))}"
            return False, f"not ready ({exc.code})"
        except OSError as exc:
            return False, f"not answering ({type(exc).__name__})"
        degraded = body.get("degraded") or []
        return True, f"ready, degraded: {', '.join(degraded)}" if degraded else "ready"
    return False, "readiness refused"


def heartbeat(settings: Settings, role: str, pid: int) -> tuple[bool, str]:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        with Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1) as redis:
            ttl = redis.ttl(f"worker:{role}:{socket.gethostname()}:{pid}")
    except RedisError as exc:
        return False, f"heartbeat unknown ({type(exc).__name__})"
    return (True, "heartbeat ok") if ttl and ttl > 0 else (False, "no heartbeat yet")


def _since(started_at: Any) -> str:
    if not started_at:
        return "-"
    ago = int(time.time() - float(started_at))
    return f"{time.strftime('%H:%M:%S', time.localtime(float(started_at)))} ({ago // 60}m{ago % 60:02d}s ago)"


def probe(settings: Settings, document: dict[str, Any], unit: dict[str, Any]) -> Row:
    pid, state = unit.get("pid"), unit["state"]
    if state == "reused":
        server = LocalServer(unit["name"], unit["host"], unit["port"], Path(unit["data_dir"]), unit["server_kind"])
        ok = server.answers()
        return Row(unit["name"], "server", None, unit["port"], "-", 0, "reused (not ours)",
                   "answers" if ok else "not answering", ok)
    running = alive(pid)
    if not running:
        ok, readiness = False, "process not running"
    elif unit["kind"] == "server":
        server = LocalServer(unit["name"], unit["host"], unit["port"], Path(unit["data_dir"]), unit["server_kind"])
        ok = server.answers()
        readiness = "answers" if ok else "not answering"
    elif unit.get("role", unit["name"]) == "api":
        ok, readiness = api_readiness(settings, document["api_url"])
    else:
        ok, readiness = heartbeat(settings, unit.get("role", unit["name"]), pid)
    return Row(unit["name"], unit["kind"], pid, unit.get("port"), _since(unit.get("started_at")),
               int(unit.get("restarts") or 0), state, readiness, ok)


def show_status(settings: Settings, console: Console, as_json: bool = False) -> int:
    """Print the table; 0 when everything is ready, 1 when something is not, 3 with no running stack."""
    document = read_state(settings.data_path / "stack.json")
    if document is None or not lock_held(settings.data_path / "stack.lock"):
        console.print(f"no `resort up` is running on data folder {settings.data_path}")
        return NO_STACK
    rows = [probe(settings, document, unit) for unit in document["units"]]
    if as_json:
        print(json.dumps({"pid": document["pid"], "api_url": document["api_url"],
                          "units": [asdict(row) for row in rows]}))
        return 0 if all(row.ready for row in rows) else 1
    table = Table(title=f"resort up (pid {document['pid']}, since {_since(document['started_at'])}), "
                        f"api {document['api_url']}")
    for column in ("name", "kind", "pid", "port", "up since", "restarts", "state", "readiness"):
        table.add_column(column)
    for row in rows:
        style = "green" if row.ready else "red"
        table.add_row(row.name, row.kind, str(row.pid or "-"), str(row.port or "-"), row.since,
                      str(row.restarts), row.state, f"[{style}]{row.readiness}[/]")
    console.print(table)
    return 0 if all(row.ready for row in rows) else 1
