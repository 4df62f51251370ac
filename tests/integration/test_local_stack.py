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
    assert up.returncode == 130, output  # stopped by Ctrl-C: 128 + SIGINT
    assert "everything stopped" in output
    leftovers = processes_mentioning(str(data_dir))
    assert leftovers == [], leftovers
    assert _ready(api_port)[0] == 0
    shutil.rmtree(data_dir, ignore_errors=True)


# Where `resort up` is when the Ctrl-C lands, each told by a file it writes on its way (never by a pause):
# its data folder's logs (servers being prepared: initdb, npm), a server's log (servers starting, then
# migrations), the api's log (roles starting), and the supervisor's state file (everything started).
START_POINTS = {
    "preparing": lambda data: (data / "logs").exists(),
    "servers": lambda data: (data / "logs" / "redis.log").exists(),
    "roles": lambda data: (data / "logs" / "api.log").exists(),
    "running": lambda data: (data / "stack.json").exists(),
}


@pytest.mark.parametrize("point", list(START_POINTS))
def test_ctrl_c_while_starting_leaves_nothing_behind(settings: Settings, point: str) -> None:
    data_dir = settings.data_path / "private" / f"up-{uuid.uuid4().hex[:8]}"
    env = private_env(data_dir, free_port())
    up = subprocess.Popen([sys.executable, "-m", "app.cli", "up"], env=env, start_new_session=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    reached, deadline = START_POINTS[point], time.monotonic() + 120
    while not reached(data_dir) and up.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for the condition, not waiting on time
    assert reached(data_dir), f"`resort up` never reached {point}"
    os.killpg(up.pid, signal.SIGINT)
    output = up.communicate(timeout=90)[0].decode()
    assert up.returncode == 130, output
    assert "everything stopped" in output
    leftovers = processes_mentioning(str(data_dir))
    assert leftovers == [], leftovers
    shutil.rmtree(data_dir, ignore_errors=True)


def test_a_second_ctrl_c_while_stopping_changes_nothing(settings: Settings) -> None:
    data_dir = settings.data_path / "private" / f"up-{uuid.uuid4().hex[:8]}"
    up = subprocess.Popen([sys.executable, "-m", "app.cli", "up"], env=private_env(data_dir, free_port()),
                          start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not (data_dir / "logs" / "api.log").exists() and up.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(up.pid, signal.SIGINT)
    os.killpg(up.pid, signal.SIGINT)  # an impatient operator
    output = up.communicate(timeout=90)[0].decode()
    assert up.returncode == 130, output
    assert processes_mentioning(str(data_dir)) == []
    shutil.rmtree(data_dir, ignore_errors=True)
