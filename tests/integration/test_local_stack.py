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

import pytest

from app.settings import Settings
from tests.support.servers import free_port
from tests.support.stack import private_env, processes_mentioning


def _ready(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def test_resort_up_starts_everything_and_ctrl_c_stops_it(settings: Settings) -> None:
    data_dir = settings.data_path / "private" / f"up-{uuid.uuid4().hex[:8]}"
    api_port = free_port()
    env = private_env(data_dir, api_port)
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
        assert len(processes_mentioning(str(data_dir))) >= 6
    finally:
        os.killpg(up.pid, signal.SIGINT) if up.poll() is None else None
        output = up.communicate(timeout=60)[0].decode()
    assert up.returncode == 0, output
    assert "everything stopped" in output
    leftovers = processes_mentioning(str(data_dir))
    assert leftovers == [], leftovers
    assert _ready(api_port)[0] == 0
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.mark.parametrize("delay", [0.0, 1.0, 2.5], ids=["initdb", "servers", "roles"])
def test_ctrl_c_while_starting_leaves_nothing_behind(settings: Settings, delay: float) -> None:
    data_dir = settings.data_path / "private" / f"up-{uuid.uuid4().hex[:8]}"
    env = private_env(data_dir, free_port())
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
    leftovers = processes_mentioning(str(data_dir))
    assert leftovers == [], leftovers
    shutil.rmtree(data_dir, ignore_errors=True)
