"""The api under uvicorn in a subprocess on a free port, for benchmarks."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def api_server(env: dict[str, str]) -> Iterator[str]:
    """The api under uvicorn (uvloop, httptools, one worker) on a free port; stopped on exit."""
    port = free_port()
    log = PROJECT_ROOT / ".data" / "logs" / "bench-api.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "app.main:asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            argv, env=env | {"RESORT_API_PORT": str(port)}, stdout=out, stderr=out, cwd=PROJECT_ROOT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(base: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the api exited with {process.returncode}; see {log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/ping", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"the api was not ready after {timeout}s; see {log}")
