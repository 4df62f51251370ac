"""`resort up` keeps the system up (issue 12): a PRIVATE stack whose processes are killed one by one.

One ``resort up --api-workers 2`` for the whole module (its own servers on free ports, its own data
folder), with fast restart pauses and a test role that fails at once on every start. The tests run in
file order; the last one presses Ctrl-C and checks that nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.settings import PROJECT_ROOT, Settings
from app.stack.servers import tcp_open
from app.stack.status import heartbeat
from tests.support.idp import complete_idp_login
from tests.support.stack import (
    UpProcess,
    children,
    free_dev_port,
    private_env,
    processes_mentioning,
    wait_for,
)

SERVERS = ["postgres", "redis", "kafka", "mongodb", "elasticsearch", "idp"]
UVICORN_WORKER = "spawn_main"  # a uvicorn worker's command line (its parent also runs a resource tracker)
BOUND = 60.0  # seconds: every "comes back by itself" must happen within this


@pytest.fixture(scope="module")
def up(settings: Settings) -> Iterator[UpProcess]:
    data_dir = settings.data_path / "private" / f"supervised-{uuid.uuid4().hex[:8]}"
    env = {
        **private_env(data_dir, free_dev_port()),
        "RESORT_EXTRA_ROLES": "exit-at-once=tests.support.roles:exit_at_once",
        "RESORT_SUPERVISE_BACKOFF_S": "0.2", "RESORT_SUPERVISE_BACKOFF_MAX_S": "2",
        "RESORT_SUPERVISE_HEALTHY_S": "10", "RESORT_SUPERVISE_CRASH_LIMIT": "3",
        "RESORT_IDP_RETRY_AFTER_S": "7", "RESORT_IDP_TIMEOUT_S": "1.5", "RESORT_LOG_JSON": "true",
    }
    process = UpProcess.start(env, "--api-workers", "2")
    try:
        wait_for(lambda: process.process.poll() is not None or _ready(process, "api"), 120, "the api")
        assert process.process.poll() is None, process.output
        yield process
    finally:
        process.interrupt()
        shutil.rmtree(data_dir, ignore_errors=True)


def _settings(up: UpProcess) -> Settings:
    return Settings.from_env(up.env)


def _api(up: UpProcess) -> str:
    return f"http://127.0.0.1:{up.env['RESORT_API_PORT']}"


def _ready(up: UpProcess, name: str) -> bool:
    """The unit runs (as the state file says) and answers: api live, a server's probe, a role's heartbeat."""
    unit = up.unit(name)
    if unit["state"] != "running":
        return False
    if name == "api":
        try:
            return httpx.get(f"{_api(up)}/health/live", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
    if unit["kind"] == "server":
        return True  # the supervisor marks a restarted server "running" only once it answers
    return heartbeat(_settings(up), name, unit["pid"])[0]


def _roles(up: UpProcess) -> list[str]:
    return [u["name"] for u in up.state()["units"] if u["kind"] == "role" and u["name"] not in ("api", "exit-at-once")]


def _kill_and_wait(up: UpProcess, name: str) -> tuple[dict[str, Any], float]:
    """SIGKILL ``name``'s process; wait until a new one is ready; return its state entry and the time."""
    before = wait_for(lambda: _ready(up, name) and up.unit(name), BOUND, f"{name} ready before")
    os.kill(before["pid"], signal.SIGKILL)
    began = time.monotonic()
    wait_for(lambda: up.unit(name)["pid"] != before["pid"] and _ready(up, name), BOUND, f"{name} back")
    elapsed = time.monotonic() - began
    after = up.unit(name)
    assert after["restarts"] == before["restarts"] + 1
    assert up.process.poll() is None, up.output
    print(f"\n{name}: SIGKILL -> ready again in {elapsed:.1f}s")  # the figures quoted in the README
    return after, elapsed


def test_status_lists_every_server_and_role(up: UpProcess) -> None:
    wait_for(lambda: all(_ready(up, name) for name in [*SERVERS, *_roles(up)]), BOUND, "every process ready")
    before = {unit["name"]: unit["pid"] for unit in up.state()["units"]}
    shown = subprocess.run([sys.executable, "-m", "app.cli", "status"], env=up.env, cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=60)
    after = {unit["name"]: unit["pid"] for unit in up.state()["units"]}
    assert {"api", "relay", "projector", "exit-at-once", *SERVERS} <= set(after), up.output
    for name, pid in after.items():
        assert name in shown.stdout, shown.stdout
        if before[name] == pid:  # not restarted meanwhile (the crash-looping test role is, all the time)
            assert str(pid) in shown.stdout, f"{shown.stdout}\n{up.output}"
    assert shown.returncode == 1, shown.stdout  # the crash-looping test role is not ready


def test_a_role_failing_at_once_is_reported_as_crash_looping_and_the_others_keep_running(up: UpProcess) -> None:
    pids = {name: up.unit(name)["pid"] for name in ["api", *SERVERS, *_roles(up)]}
    wait_for(lambda: up.unit("exit-at-once")["state"] == "crash-looping", BOUND, "the crash loop reported")
    report = wait_for(lambda: "exit-at-once is crash-looping" in up.output and up.output, 10, "the report")
    assert "exit-at-once.log" in report and "fails as soon as it starts" in report  # its last log lines
    assert {name: up.unit(name)["pid"] for name in pids} == pids
    assert httpx.get(f"{_api(up)}/health/ready", timeout=10).status_code == 200
    assert up.process.poll() is None


def test_sigkill_of_the_api_and_of_one_of_its_workers(up: UpProcess) -> None:
    api, _ = _kill_and_wait(up, "api")
    workers = wait_for(lambda: len(found := children(api["pid"], UVICORN_WORKER)) == 2 and found, BOUND, "2 workers")
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)  # uvicorn's own supervisor starts a new worker, the parent stays
    wait_for(lambda: victim not in (now := children(api["pid"], UVICORN_WORKER)) and len(now) == 2, BOUND,
             "a new api worker")
    assert up.unit("api")["pid"] == api["pid"] and up.unit("api")["restarts"] == api["restarts"]
    wait_for(lambda: httpx.get(f"{_api(up)}/health/live", timeout=2).status_code == 200, BOUND, "the api")


def test_sigkill_of_each_worker_role(up: UpProcess) -> None:
    roles = _roles(up)
    assert {"relay", "projector"} <= set(roles)
    for role in roles:
        _kill_and_wait(up, role)


async def _login(api: str, browser: httpx.AsyncClient, login: str) -> dict[str, Any]:
    started = await browser.get(f"{api}/auth/login", params={"response": "json"})
    assert started.status_code == 200, started.text
    callback = await complete_idp_login(started.json()["authorization_url"], login, client=browser)
    answer = await browser.get(callback, headers={"X-Login-Binding": started.json()["login_binding"]})  # the app's way
    assert answer.status_code == 200, answer.text
    return answer.json()


@contextlib.contextmanager
def _down_while_unsupervised(up: UpProcess, name: str) -> Iterator[None]:
    """SIGKILL ``name`` with ``resort up`` paused (SIGSTOP), so it stays down until the block ends."""
    os.kill(up.process.pid, signal.SIGSTOP)
    try:
        os.kill(up.unit(name)["pid"], signal.SIGKILL)
        wait_for(lambda: not tcp_open("127.0.0.1", up.unit(name)["port"]), BOUND, f"{name} down")
        yield
    finally:
        os.kill(up.process.pid, signal.SIGCONT)


async def test_the_idp_killed_degrades_then_comes_back(up: UpProcess) -> None:
    api = _api(up)
    async with httpx.AsyncClient(timeout=15) as browser:
        tokens = await _login(api, browser, "frontdesk")
        killed = up.unit("idp")["pid"]
        with _down_while_unsupervised(up, "idp"):
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            me = await browser.get(f"{api}/auth/me", headers=bearer)
            assert me.status_code == 200 and me.json()["subject"] == "u-frontdesk-0001"
            refreshed = await browser.post(f"{api}/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]})
            assert refreshed.status_code == 200, refreshed.text
            again = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
            assert (await browser.get(f"{api}/auth/me", headers=again)).status_code == 200
            login = await browser.get(f"{api}/auth/login", params={"response": "json"})
            assert login.status_code == 503 and login.headers["retry-after"] == "7", login.text
            assert login.json()["code"] == "idp_unavailable"
            detail = (await browser.get(f"{api}/health/detail")).json()  # operators' view, from this machine
            assert detail["dependencies"]["idp"]["status"] == "degraded" and "idp" not in detail["failed"]
            assert (await browser.get(f"{api}/health/ready")).status_code == 200
        began = time.monotonic()
        wait_for(lambda: up.unit("idp")["pid"] != killed and _ready(up, "idp"), BOUND, "the idp back")
        print(f"\nidp: supervisor resumed -> answering again in {time.monotonic() - began:.1f}s")
        assert (await _login(api, browser, "guest"))["access_token"]
    assert up.process.poll() is None


def test_sigkill_of_servers(up: UpProcess) -> None:
    for name in ("idp", "redis", "postgres"):
        _kill_and_wait(up, name)
    wait_for(lambda: httpx.get(f"{_api(up)}/health/ready", timeout=10).status_code == 200, BOUND, "ready again")


def test_a_second_resort_up_refuses_clearly(up: UpProcess, settings: Settings) -> None:
    same = subprocess.run([sys.executable, "-m", "app.cli", "up"], env=up.env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert same.returncode == 1 and "another `resort up` is already running" in same.stderr, same.stderr
    other_dir = settings.data_path / "private" / f"second-{uuid.uuid4().hex[:8]}"
    other = subprocess.run([sys.executable, "-m", "app.cli", "up"], env={**up.env, "RESORT_DATA_DIR": str(other_dir)},
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert other.returncode == 1 and "is already in use" in other.stderr, other.stderr
    assert processes_mentioning(str(other_dir)) == []
    shutil.rmtree(other_dir, ignore_errors=True)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_api_that_cannot_bind_exits(up: UpProcess, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {**up.env, "RESORT_API_PORT": port, "RESORT_API_WORKERS": workers}
        api = subprocess.run([sys.executable, "-m", "app.cli", "run", "api"], env=env, cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=60)
    assert api.returncode != 0
    assert "address already in use" in (api.stdout + api.stderr).lower()


def test_ctrl_c_after_restarts_leaves_nothing_behind(up: UpProcess) -> None:
    assert sum(u["restarts"] for u in up.state()["units"]) >= 5
    assert up.interrupt() == 130, up.output  # stopped by Ctrl-C: 128 + SIGINT
    assert "everything stopped" in up.output
    assert processes_mentioning(str(up.data_dir)) == []
    assert not (up.data_dir / "stack.json").exists()
    shown = subprocess.run([sys.executable, "-m", "app.cli", "status"], env=up.env, cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 3 and "no `resort up` is running" in shown.stdout + shown.stderr
