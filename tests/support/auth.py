"""Pytest plugin (loaded by tests/conftest.py): signed-in callers for any feature's tests.

Each fixture creates a REAL session in Redis and mints a REAL access JWT with the app's own key, exactly
what a browser login would produce, without the IdP round trip:

    async def test_x(client, admin_headers, auth_headers):
        await client.post("/catalog/...", headers=admin_headers)
        headers = await auth_headers(["guest"], locale="en-US")

The test run raises the per-minute API, login and refresh limits (unless the environment sets them) so
that a whole suite calling from the one test-client address is not throttled; the rate-limit tests build
their own app with low limits.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from app.auth.keys import KeyRing, keys_path
from app.auth.sessions import SessionStore
from app.auth.tokens import AccessTokens
from app.settings import Settings

for _var in ("RESORT_RATE_LIMIT_API_PER_MINUTE", "RESORT_RATE_LIMIT_LOGIN_PER_MINUTE",
             "RESORT_RATE_LIMIT_REFRESH_PER_MINUTE"):
    os.environ.setdefault(_var, "1000000")

MakeHeaders = Callable[..., Awaitable[dict[str, str]]]


class AuthKit:
    """Sessions and tokens made in the tests' own event loop (the app's pools live in another loop),
    with the same Redis database and the same shared signing key file as the app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis = Redis.from_url(settings.redis_url, decode_responses=False)
        self.sessions = SessionStore(self.redis, settings)
        self.tokens = AccessTokens(settings, KeyRing(keys_path(settings)))

    async def sign_in(self, roles: list[str], subject: str | None = None, locale: str = "ko-KR",
                      name: str | None = None, email: str | None = None) -> tuple[dict[str, str], str]:
        """A session in Redis and a bearer header for it; returns (headers, session id)."""
        subject = subject or f"test-user-{uuid.uuid4().hex[:12]}"
        session = await self.sessions.create(
            subject=subject, roles=roles, locale=locale, name=name or subject,
            email=email or f"{subject}@example.test", ip="127.0.0.1", user_agent="pytest",
        )
        token = self.tokens.mint(subject=subject, session_id=session.id, roles=roles)
        return {"Authorization": f"Bearer {token}"}, session.id


@pytest.fixture(scope="session")
async def auth_kit(settings: Settings, stack: object) -> AsyncIterator[AuthKit]:
    kit = AuthKit(settings)
    yield kit
    await kit.redis.aclose()


@pytest.fixture
async def auth_headers(auth_kit: AuthKit, client: object) -> AsyncIterator[MakeHeaders]:
    """Factory: ``await auth_headers(["guest"], subject=None, locale="ko-KR")`` -> bearer headers."""
    created: list[str] = []

    async def make(roles: list[str], subject: str | None = None, locale: str = "ko-KR") -> dict[str, str]:
        headers, sid = await auth_kit.sign_in(list(roles), subject, locale)
        created.append(sid)
        return headers

    yield make
    for sid in created:
        await auth_kit.sessions.revoke(sid)


@pytest.fixture
async def admin_headers(auth_headers: MakeHeaders, settings: Settings) -> dict[str, str]:
    """An administrator (IdP groups staff + resort-admins: roles admin, front_desk, guest)."""
    return await auth_headers(settings.roles_for_groups(["staff", "resort-admins"]), locale="en-US")


@pytest.fixture
async def front_desk_headers(auth_headers: MakeHeaders, settings: Settings) -> dict[str, str]:
    """Front-desk staff (roles front_desk, guest)."""
    return await auth_headers(settings.roles_for_groups(["staff", "front-desk"]))


@pytest.fixture
async def guest_headers(auth_headers: MakeHeaders, settings: Settings) -> dict[str, str]:
    """A guest (role guest), locale ko-KR."""
    return await auth_headers(settings.roles_for_groups(["customers"]))


@contextlib.contextmanager
def serve_api(env: dict[str, str], port: int, timeout: float = 30.0) -> Iterator[str]:
    """The api in a uvicorn subprocess on ``port`` with ``env`` on top of this process's environment;
    yields its base URL and stops it afterwards (by its own pid)."""
    log_path = Path(env.get("RESORT_DATA_DIR", "/tmp")) / f"api-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "app.main:asgi", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the api exited with {process.returncode}; see {log_path}")
                try:
                    if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the api did not answer in {timeout} s; see {log_path}")
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def subprocess_environment(settings: Settings) -> dict[str, str]:
    """The RESORT_* variables that make a subprocess use the test databases."""
    return {**settings.to_env(), "RESORT_LOG_JSON": "true"}
