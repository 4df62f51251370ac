"""`resort up` from nothing: every server and role comes up, readiness is green, Ctrl-C leaves nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from app.settings import Settings
from tests.support.servers import free_port


def _processes_mentioning(needle: str) -> list[str]:
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


def _ready(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def _private_env(data_dir: Path, api_port: int) -> dict[str, str]:
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
        "RESORT_SEED_ON_UP": "false",
    }


def test_resort_up_starts_everything_and_ctrl_c_stops_it(settings: Settings) -> None:
    data_dir = settings.data_path / "private" / f"up-{uuid.uuid4().hex[:8]}"
    api_port = free_port()
    env = _private_env(data_dir, api_port)
    began = time.monotonic()
    up = subprocess.Popen([sys.executable, "-m", "app.cli", "up"], env=env, start_new_session=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        status, body = 0, {}
        while time.monotonic() - began < 120 and status != 200:
            assert up.poll() is None, up.stdout.read().decode() if up.stdout else ""
            time.sleep(0.5)
            status, body = _ready(api_port)
        assert status == 200, body
        assert all(dep["status"] == "ok" for dep in body["dependencies"].values()), body
        assert len(_processes_mentioning(str(data_dir))) >= 6
    finally:
        os.killpg(up.pid, signal.SIGINT) if up.poll() is None else None
        output = up.communicate(timeout=60)[0].decode()
    assert up.returncode == 0, output
    assert "everything stopped" in output
    leftovers = _processes_mentioning(str(data_dir))
    assert leftovers == [], leftovers
    assert _ready(api_port)[0] == 0
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.mark.parametrize("delay", [0.0, 1.0, 2.5], ids=["initdb", "servers", "roles"])
def test_ctrl_c_while_starting_leaves_nothing_behind(settings: Settings, delay: float) -> None:
    data_dir = settings.data_path / "private" / f"up-{uuid.uuid4().hex[:8]}"
    env = _private_env(data_dir, free_port())
    up = subprocess.Popen([sys.executable, "-m", "app.cli", "up"], env=env, start_new_session=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (data_dir / "logs").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the servers are being started now
    time.sleep(delay)
    os.killpg(up.pid, signal.SIGINT)
    output = up.communicate(timeout=60)[0].decode()
    assert up.returncode in (0, 130), output
    assert "everything stopped" in output
    leftovers = _processes_mentioning(str(data_dir))
    assert leftovers == [], leftovers
    shutil.rmtree(data_dir, ignore_errors=True)
