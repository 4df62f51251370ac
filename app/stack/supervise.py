"""Keep the local system up: restart a process that exits on its own, with a backoff; report crash loops.

Only Ctrl-C or SIGTERM stops everything (``LocalStack.stop``, newest first). A process that exits while
the stack runs is reported, its leftovers are killed, and it is started again after a pause that doubles
from ``backoff_s`` to ``backoff_max_s``; a run of ``healthy_s`` seconds resets the pause. ``crash_limit``
short runs in a row are reported once as a crash loop, with the last lines of the process's log; it is
still retried (every ``backoff_max_s``) while everything else keeps running.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from app.settings import Settings
from app.stack.servers import LocalServer, port_free
from app.stack.state import StackState
from app.stack.supervisor import LocalStack

log = structlog.get_logger("app.stack")

TICK_S = 0.2
GROUP_WAIT_S = 5.0  # how long a restart waits for the previous process group to be gone


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RestartPolicy:
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    healthy_s: float = 30.0
    crash_limit: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> RestartPolicy:
        return cls(settings.supervise_backoff_s, settings.supervise_backoff_max_s,
                   settings.supervise_healthy_s, settings.supervise_crash_limit)

    def delay(self, failures: int) -> float:
        """The pause before restart number ``failures`` of a run of short-lived starts."""
        return min(self.backoff_max_s, self.backoff_s * 2 ** max(0, failures - 1))


@dataclass
class Unit:
    """One supervised process: a server this stack started, or a role (api, relay, ...)."""

    name: str
    kind: str  # "server" or "role"
    argv: Callable[[], list[str]]
    env: Callable[[], dict[str, str]]
    log_path: Path
    port: int | None = None
    probe: Callable[[], bool] | None = None  # answers = ready; None: running = ready
    server: LocalServer | None = None
    ready_note: str = ""  # appended to the first "ready" message
    role: str = ""  # the role an instance runs (``saga`` for ``saga-2``); empty for a server
    state: str = "starting"  # starting, running, restarting, waiting-port
    began: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    restarts: int = 0
    failures: int = 0  # short runs in a row
    crash_looping: bool = False
    last_exit: int | None = None
    down_since: float | None = None
    restart_at: float = 0.0


def tail(path: Path, lines: int = 12) -> str:
    """The last ``lines`` lines of a log file (its last 16 KiB at most)."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, file.seek(0, 2) - 16384))
            return "\n".join(file.read().decode(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Supervisor:
    """Watches every unit of a :class:`LocalStack`; ``run`` returns when ``stop`` becomes true."""

    def __init__(self, stack: LocalStack, policy: RestartPolicy, state: StackState,
                 report: Callable[[str], None]) -> None:
        self.stack, self.policy, self.state, self.report = stack, policy, state, report
        self.units: dict[str, Unit] = {}

    def adopt_servers(self) -> None:
        """The servers ``stack.start_servers`` started (answering already) become supervised units."""
        for server in self.stack.servers:
            if server.name in self.stack.reused:
                continue
            self.units[server.name] = Unit(
                server.name, "server", server.argv, server.environment, server.log_path, server.port,
                server.answers, server, state="running",
            )

    def start(self, unit: Unit) -> None:
        self.stack.spawn(unit.name, unit.argv(), unit.env(), unit.log_path)
        unit.state = "starting" if unit.probe else "running"
        self.units[unit.name] = unit

    def pid(self, unit: Unit) -> int:
        return self.stack.child(unit.name).process.pid

    def run(self, stop: object) -> None:
        self.save()
        while not stop:
            if any([self._guarded_check(unit) for unit in list(self.units.values())]):
                self.save()
            time.sleep(TICK_S)

    def _guarded_check(self, unit: Unit) -> bool:
        """One unit's check; a failure to restart it (e.g. no file descriptors left) is reported and
        tried again at the next pause, never allowed to end the supervision of the others."""
        try:
            return self._check(unit, time.monotonic())
        except Exception as exc:  # noqa: BLE001 - reported; the unit is retried after a pause
            log.exception("supervision_error", name=unit.name)
            self.report(f"[red]{unit.name}: could not be supervised ({exc}); trying again[/]")
            unit.state, unit.restart_at = "restarting", time.monotonic() + self.policy.backoff_max_s
            return True

    def _check(self, unit: Unit, now: float) -> bool:
        """Advance one unit's state; True when something changed."""
        if unit.state in ("restarting", "waiting-port"):
            return self._maybe_restart(unit, now)
        code = self.stack.child(unit.name).process.poll()
        if code is not None:
            self._exited(unit, code, now)
            return True
        if unit.state == "starting" and unit.probe is not None and unit.probe():
            unit.state = "running"
            after = f" ({now - unit.down_since:.1f}s after it went down)" if unit.down_since else ""
            self.report(f"{unit.name}: answering again{after}" if unit.restarts
                        else f"[green]{unit.name} ready[/]{unit.ready_note}")
            log.info("process_ready", name=unit.name, restarts=unit.restarts,
                     down_s=round(now - unit.down_since, 2) if unit.down_since else None)
            return True
        if unit.failures and now - unit.began >= self.policy.healthy_s:
            if unit.crash_looping:
                self.report(f"[green]{unit.name}: healthy again after a crash loop[/]")
            unit.failures, unit.crash_looping = 0, False
            return True
        return False

    def _exited(self, unit: Unit, code: int, now: float) -> None:
        ran = now - unit.began
        unit.failures = unit.failures + 1 if ran < self.policy.healthy_s else 1
        unit.last_exit, unit.down_since, unit.state = code, now, "restarting"
        delay = self.policy.delay(unit.failures)
        unit.restart_at = now + delay
        self.stack.child(unit.name).stop(grace=0)  # its group's leftovers, e.g. uvicorn's workers
        log.warning("process_exited", name=unit.name, code=code, ran_s=round(ran, 2),
                    restart_in_s=delay, failures=unit.failures)
        if unit.failures >= self.policy.crash_limit and not unit.crash_looping:
            unit.crash_looping = True
            self.report(
                f"[red bold]{unit.name} is crash-looping[/]: it exited {unit.failures} times in a row within "
                f"{self.policy.healthy_s:.0f}s of starting (last exit code {code}); still retrying every "
                f"{self.policy.backoff_max_s:.0f}s at most, everything else keeps running. Last lines of "
                f"{unit.log_path}:\n{tail(unit.log_path)}"
            )
            log.error("process_crash_looping", name=unit.name, failures=unit.failures, log=str(unit.log_path))
        elif not unit.crash_looping:
            self.report(f"[yellow]{unit.name} exited with {code} after {ran:.1f}s[/]; restarting it in {delay:.1f}s")

    def _maybe_restart(self, unit: Unit, now: float) -> bool:
        if now < unit.restart_at:
            return False
        if group_alive(self.stack.child(unit.name).process.pid) and now - (unit.down_since or now) < GROUP_WAIT_S:
            return False  # e.g. PostgreSQL's postmaster under runuser: its pid must be gone from postmaster.pid
        if unit.server is not None and not port_free(unit.server.host, unit.server.port):
            if unit.state != "waiting-port":
                unit.state = "waiting-port"
                self.report(f"{unit.name}: port {unit.server.host}:{unit.server.port} is still taken; "
                            "waiting for it before restarting")
                return True
            return False
        self.stack.respawn(self.stack.child(unit.name), unit.argv(), unit.env(), unit.log_path)
        unit.restarts += 1
        unit.began, unit.started_at = now, time.time()
        unit.state = "starting" if unit.probe else "running"
        log.info("process_restarted", name=unit.name, pid=self.pid(unit), restarts=unit.restarts)
        if not unit.crash_looping:
            self.report(f"{unit.name}: restarted (pid {self.pid(unit)}, restart #{unit.restarts})")
        return True

    def save(self) -> None:
        self.state.write(self.snapshot())

    def snapshot(self) -> list[dict[str, object]]:
        units: list[dict[str, object]] = [
            {"name": s.name, "kind": "server", "server_kind": s.kind, "host": s.host, "port": s.port,
             "data_dir": str(s.data_dir), "state": "reused", "pid": None}
            for s in self.stack.servers if s.name in self.stack.reused
        ]
        for unit in self.units.values():
            entry: dict[str, object] = {
                "name": unit.name, "kind": unit.kind, "port": unit.port, "pid": self.pid(unit),
                "state": "crash-looping" if unit.crash_looping else unit.state, "started_at": unit.started_at,
                "restarts": unit.restarts, "last_exit": unit.last_exit, "log": str(unit.log_path),
                "role": unit.role or unit.name,
            }
            if unit.server is not None:
                entry.update(server_kind=unit.server.kind, host=unit.server.host,
                             data_dir=str(unit.server.data_dir))
            units.append(entry)
        return units
