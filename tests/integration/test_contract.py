"""The OpenAPI document is the contract: schemathesis, every check (``--checks all``), every phase
(examples, coverage, fuzzing and the stateful phase that follows the document's links), finds nothing.

The api is served over a real socket on the test databases. Each role signs in afresh for its run:
guest, front desk and admin get real sessions (AuthKit), the partner a client-credentials token from
the IdP. The operations that end the caller's own sessions are left out (they would sign the run out).
A fixed seed gives every role the same run on every build; one more run, as a role chosen by the
day, uses a seed that changes every day (printed, so a failure can be replayed). Budget: a few
examples per operation (``RESORT_CONTRACT_EXAMPLES`` raises it for a deeper local run, e.g. 200;
access tokens live an hour here so that a long run is not signed out halfway).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest

from app.settings import Settings
from tests.support.auth import AuthKit, serve_api, subprocess_environment
from tests.support.contract import config_text, run_schemathesis
from tests.support.idp import client_credentials_token
from tests.support.servers import free_port

EXAMPLES = int(os.environ.get("RESORT_CONTRACT_EXAMPLES", "2"))
FIXED_SEED = 20261130
ROTATING_SEED = int(os.environ.get("RESORT_CONTRACT_SEED", dt.date.today().toordinal()))
ROLES = ("guest", "front_desk", "admin", "partner")
GROUPS = {"guest": ["customers"], "front_desk": ["staff", "front-desk"], "admin": ["staff", "resort-admins"]}


@pytest.fixture(scope="module")
def contract_settings(settings: Settings) -> Settings:
    # A deep run sends thousands of requests a minute as one principal: past the api's budget, every operation
    # would answer 429 and the logic behind it would go untested.
    return msgspec.structs.replace(settings, access_token_ttl=max(settings.access_token_ttl, 3600),
                                   rate_limit_api_per_minute=1_000_000)


@pytest.fixture(scope="module")
def contract_api(contract_settings: Settings, stack: object) -> Iterator[str]:
    with serve_api(subprocess_environment(contract_settings), free_port()) as url:
        yield url


@pytest.fixture(scope="module")
def contract_config(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "schemathesis.toml"
    path.write_text(config_text(settings))
    return path


@pytest.fixture
async def contract_kit(contract_settings: Settings, stack: object) -> AsyncIterator[AuthKit]:
    kit = AuthKit(contract_settings)
    yield kit
    await kit.redis.aclose()


async def _token(role: str, settings: Settings, auth_kit: AuthKit) -> tuple[str, str | None]:
    """A fresh token of ``role`` and its session: a new session for users, a new client-credentials token
    (no session) for partners."""
    if role == "partner":
        answer = await client_credentials_token(settings.oidc_issuer, "partner-acme", "partner-acme-secret",
                                                "catalog:read bookings:read bookings:write")
        assert "access_token" in answer, answer
        return str(answer["access_token"]), None
    headers, session_id = await auth_kit.sign_in(settings.roles_for_groups(GROUPS[role]), locale="en-US")
    return headers["Authorization"].removeprefix("Bearer "), session_id


def _runs() -> list[tuple[str, int]]:
    rotating_role = ROLES[ROTATING_SEED % len(ROLES)]
    return [(role, FIXED_SEED) for role in ROLES] + [(rotating_role, ROTATING_SEED)]


@pytest.mark.timeout(300 + 12 * EXAMPLES)  # a deep local run (200 examples) takes minutes per role
@pytest.mark.parametrize(("role", "seed"), _runs(), ids=lambda value: str(value))
async def test_the_document_is_the_contract(role: str, seed: int, contract_api: str, contract_config: Path,
                                            contract_settings: Settings, contract_kit: AuthKit) -> None:
    token, session_id = await _token(role, contract_settings, contract_kit)
    # The coverage phase is deterministic (the seed does not change it): the rotating run skips it.
    phases = "examples,coverage,fuzzing,stateful" if seed == FIXED_SEED else "examples,fuzzing,stateful"
    try:
        run = await asyncio.to_thread(run_schemathesis, contract_api, token, contract_config, seed=seed,
                                      examples=EXAMPLES, phases=phases,
                                      timeout=240 + 12 * EXAMPLES)
    finally:
        if session_id:
            await contract_kit.sessions.revoke(session_id)
    start = run.output.find("FAILURES")
    summary = run.output[start:][:30000] if start >= 0 else run.output[-6000:]
    assert run.returncode == 0, f"schemathesis as {role}, seed {seed}:\n{summary}"
    tested = [line.strip() for line in run.output.splitlines() if " generated, " in line or "Tested:" in line]
    assert tested, summary  # it really ran the operations
    print(f"contract as {role}, seed {seed}: {'; '.join(tested)}")  # noqa: T201 - the figures, with -s
