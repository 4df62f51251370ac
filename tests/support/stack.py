"""A PRIVATE ``resort up`` for tests that kill its processes: its own servers on free ports, its own data.

    up = UpProcess.start(private_env(data_dir, api_port), "--api-workers", "2")
    up.wait_for(lambda: up.unit("api")["state"] == "running", 60, "the api")
    up.interrupt()  # Ctrl-C; returns the exit code

Never points at the shared servers, so killing and restarting is safe while other tests run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.settings import PROJECT_ROOT
from tests.support.servers import free_port


def free_dev_port() -> int:
    """A free port among those the IdP stand-in registers redirect URIs for (18000-18010)."""
    for port in range(18000, 18011):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 18000-18010 for a private api")


def private_env(data_dir: Path, api_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "RESORT_DATA_DIR": str(data_dir),
        "RESORT_API_PORT": str(api_port),
        "RESORT_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
        "RESORT_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/resort",
        "RESORT_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "RESORT_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "RESORT_MONGO_URL": f"mongodb://127.0.0.1:{free_port()}",
        "RESORT_ELASTICSEARCH_URL": f"http://127.0.0.1:{free_port()}",
        "RESORT_OIDC_ISSUER": f"http://127.0.0.1:{free_port()}",
        "RESORT_PAYMENT_PROVIDER_URL": f"http://127.0.0.1:{free_port()}",
        "RESORT_SEED_ON_UP": "false",
    }


def processes_mentioning(needle: str) -> list[str]:
    """Every process whose command line or environment mentions ``needle`` (e.g. a private data folder)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if needle in cmdline or needle.encode() in environ:
            found.append(f"{pid}: {cmdline[:120]}")
    return found


def children(pid: int, containing: str = "") -> set[int]:
    """The live child processes of ``pid`` whose command line contains ``containing``."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and containing in cmdline:
            found.add(int(entry))
    return found


def wait_for(condition: Callable[[], Any], timeout: float, what: str, poll: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(poll)
    return result


class UpProcess:
    """``resort up`` in a session of its own; its output is collected by a thread."""

    def __init__(self, process: subprocess.Popen[bytes], env: dict[str, str]) -> None:
        self.process, self.env = process, env
        self.data_dir = Path(env["RESORT_DATA_DIR"])
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, env: dict[str, str], *args: str) -> UpProcess:
        process = subprocess.Popen([sys.executable, "-m", "app.cli", "up", *args], env=env, cwd=PROJECT_ROOT,
                                   start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return cls(process, env)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def state(self) -> dict[str, Any]:
        try:
            return json.loads((self.data_dir / "stack.json").read_text())
        except (OSError, ValueError):
            return {"units": []}

    def unit(self, name: str) -> dict[str, Any]:
        return next((u for u in self.state()["units"] if u["name"] == name), {"state": "unknown", "pid": None})

    def interrupt(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code
