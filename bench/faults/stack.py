"""The system under test: a private Redis and Kafka (so the run may flush and restart them), the shared
PostgreSQL, MongoDB and Elasticsearch with databases of its own, two api processes, two orchestrators,
the participants, the sweeper, the relay, the projector (reconciling every 10 s), the booking views and
the live publisher - each a real process the
nemesis may kill, pause and restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT
from app.stack import LocalServer, LocalStack

# Two sweepers, as two orchestrators: with one, a SIGKILL on a loaded machine (its restart took 5.3 s) let
# holds end past their TTL + 5 s. Several sweepers share the work (FOR UPDATE SKIP LOCKED).
ROLES = ("relay", "projector", "saga", "saga", "services", "sweeper", "sweeper", "booking-views", "publisher")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proc:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    paused: bool = False


@dataclass
class FaultStack:
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)
    servers: LocalStack | None = None
    apis: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, root: Path) -> FaultStack:
        root.mkdir(parents=True, exist_ok=True)
        redis = LocalServer("faults-redis", "127.0.0.1", _free_port(), root / "redis", "redis")
        kafka = LocalServer("faults-kafka", "127.0.0.1", _free_port(), root / "kafka", "kafka")
        # a payment provider of its own: its ledger holds this run's money only, the checker's truth
        payments = LocalServer("faults-payments", "127.0.0.1", _free_port(), root / "payments", "payments")
        run = uuid.uuid4().hex[:6]
        env = {**os.environ,
               "RESORT_DATABASE_URL": os.environ.get("RESORT_DATABASE_URL",
                                                     "postgresql://postgres@127.0.0.1:55432/resort_faults"),
               "RESORT_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
               "RESORT_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka.port}", "RESORT_KAFKA_TOPIC_PREFIX": "faults.",
               "RESORT_MONGO_DB": os.environ.get("RESORT_MONGO_DB", "resort_faults"),
               "RESORT_SEARCH_INDEX": "faults_products",
               "RESORT_LOG_JSON": "true", "RESORT_LOG_LEVEL": "INFO", "RESORT_COOKIE_SECURE": "false",
               "RESORT_RATE_LIMIT_API_PER_MINUTE": "100000000", "RESORT_HOLD_RATE_PER_MINUTE": "100000000",
               # every simulated client shares 127.0.0.1: sessions a Redis flush lost must not trip the
               # per-address limit of invalid tokens for all of them (and a partner's expired token)
               "RESORT_RATE_LIMIT_BAD_TOKENS_PER_MINUTE": "100000000",
               "RESORT_HOLD_TTL_S": "6", "RESORT_HOLD_LOCK_TTL_MS": "1000", "RESORT_SAGA_STEP_TIMEOUT_S": "2",
               "RESORT_SAGA_MAX_RESENDS": "2", "RESORT_SAGA_DEADLINE_S": "120", "RESORT_PAYMENT_TIMEOUT_S": "0.5",
               "RESORT_SWEEPER_INTERVAL_S": "0.2", "RESORT_SAGA_GROUP": f"faults-saga-{run}",
               "RESORT_SERVICES_GROUP": f"faults-services-{run}", "RESORT_PROJECTOR_GROUP": f"faults-proj-{run}",
               "RESORT_LIVE_PUBLISHER_GROUP": f"faults-live-{run}", "RESORT_RECONCILE_INTERVAL_S": "10",
               "RESORT_PAYMENT_PROVIDER_URL": f"http://127.0.0.1:{payments.port}"}
        stack = cls(root, env, servers=LocalStack([redis, kafka, payments]))
        return stack

    @property
    def redis(self) -> LocalServer:
        return self.servers.servers[0]  # type: ignore[union-attr]

    @property
    def kafka(self) -> LocalServer:
        return self.servers.servers[1]  # type: ignore[union-attr]

    def start(self, api_count: int = 2) -> None:
        self.servers.start_servers(timeout=60)  # type: ignore[union-attr]
        for n in range(api_count):
            port = _free_port()
            self.apis.append(f"http://127.0.0.1:{port}")
            self.add(f"api-{n}", [sys.executable, "-m", "uvicorn", "--factory", "app.main:asgi", "--host",
                                  "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"])
        for n, role in enumerate(ROLES):
            self.add(f"{role}-{n}", [sys.executable, "-c", "from app.cli import main; main()", "run", role])
        self.wait_apis()

    def add(self, name: str, argv: list[str]) -> None:
        self.procs[name] = Proc(name, argv)
        self.launch(name)

    def launch(self, name: str) -> None:
        proc = self.procs[name]
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        proc.process = subprocess.Popen(proc.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT, start_new_session=True)
        proc.paused = False

    def wait_apis(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for url in self.apis:
            while True:
                try:
                    if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not start; see {self.root}")
                time.sleep(0.2)

    def signal(self, name: str, sig: int) -> None:
        proc = self.procs[name]
        if proc.process is not None and proc.process.poll() is None:
            os.killpg(proc.process.pid, sig)
        proc.paused = sig == signal.SIGSTOP

    def kill(self, name: str) -> None:
        self.signal(name, signal.SIGKILL)
        proc = self.procs[name]
        if proc.process is not None:
            proc.process.wait(10)

    def revive(self) -> list[str]:
        """Restart every process that is not running (the supervisor a real deployment has)."""
        revived = []
        for name, proc in self.procs.items():
            if proc.process is None or proc.process.poll() is not None:
                self.launch(name)
                revived.append(name)
        return revived

    def restart_server(self, server: LocalServer) -> None:
        self.servers.restart_server(server.name)  # type: ignore[union-attr]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.process is not None and proc.process.poll() is None:
                if proc.paused:
                    os.killpg(proc.process.pid, signal.SIGCONT)
                os.killpg(proc.process.pid, signal.SIGTERM)
        for proc in self.procs.values():
            if proc.process is None:
                continue
            try:
                proc.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.process.pid, signal.SIGKILL)
                proc.process.wait(5)
        if self.servers is not None:
            self.servers.stop()
