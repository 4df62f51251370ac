"""Property-based fuzzing of every documented operation (schemathesis): bad input is never a 500.

The api runs in a uvicorn subprocess on a free port against the test databases (as in production, over
a real socket). Every operation is exercised with schema-valid and schema-breaking input, as an
administrator (a real Redis session and bearer token, fresh for each operation) and, for one case in
four, anonymously. Path ids point at a real resort and ``If-Match: *`` is sent for three cases in four,
so the handlers get past their 404s and 428s. Checks: no 5xx; a success carries a documented content
type; a 4xx is problem+json with a stable ``code``.

Bounded for CI: a fixed seed, derandomized generation, few examples per operation, no shrinking.
``RESORT_FUZZ_EXAMPLES`` raises the count for a deeper local run.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, seed
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance

from app.settings import Settings
from tests.conftest import TEST_ENV
from tests.support.auth import MakeHeaders, serve_api, subprocess_environment
from tests.support.catalog import AppCall, CatalogFactory, Resort

EXAMPLES = int(os.environ.get("RESORT_FUZZ_EXAMPLES", "12"))
SEED = 20240611
PROBLEM_JSON = "application/problem+json"
# Each case's turn decides, deterministically, whether it gets real ids, a token and If-Match.
_counter = itertools.count()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api_url(settings: Settings, stack: object) -> Iterator[str]:
    """The api, served by uvicorn over a real socket, on the test databases."""
    with serve_api(subprocess_environment(settings), _free_port()) as url:
        yield url


@pytest.fixture(scope="module")
async def fuzz_resort(resources: Any, app_call: AppCall) -> Resort:
    """Real ids for the path parameters (one property, one product of each kind)."""
    return await CatalogFactory(resources, app_call).resort(nights=7)


@pytest.fixture
async def fuzz_headers(auth_headers: MakeHeaders, settings: Settings) -> dict[str, str]:
    """A fresh administrator session per operation (logout ends it; the next operation gets its own)."""
    return await auth_headers(settings.roles_for_groups(["staff", "resort-admins"]), locale="en-US")


def _openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, built in-process at collection time (no server, no lifespan), so that
    pytest gets one test per operation; it is the same document the served api publishes."""
    from app.main import create_app

    app = create_app(Settings.from_env({**TEST_ENV, **os.environ}))
    return app.openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(
    _openapi_document(),
    config=SchemathesisConfig.from_dict(
        {"seed": SEED, "generation": {"deterministic": True, "max-examples": EXAMPLES, "no-shrink": True}}
    ),
)


def _aim_at_resort(case: Any, resort: Resort, turn: int) -> None:
    """Three cases in four get real ids, so the handlers run past their lookups."""
    if turn % 4 == 3:
        return
    params = case.path_parameters or {}
    if "property_id" in params:
        params["property_id"] = resort.property["id"]
    if "product_id" in params:
        params["product_id"] = str(resort.products[turn % len(resort.products)]["id"])


def _is_readiness_report(case: Any, response: Any) -> bool:
    """``/health/ready`` answers 503 with its report when a dependency is slow or down: its contract
    (documented), not a crash. The shared servers are busy while the whole suite runs."""
    if case.path != "/health/ready" or response.status_code != 503:
        return False
    return response.json().get("status") == "down"


def _assert_problem(response: Any) -> None:
    values = {name.lower(): value for name, value in response.headers.items()}.get("content-type", [""])
    content_type = values[0] if values else ""
    assert content_type.startswith(PROBLEM_JSON), (response.status_code, content_type, response.text)
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert body.get("status") == response.status_code, body


@schema.parametrize()
@seed(SEED)
@hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: Any, api_url: str, fuzz_headers: dict[str, str], fuzz_resort: Resort) -> None:
    turn = next(_counter)
    _aim_at_resort(case, fuzz_resort, turn)
    headers = {} if turn % 4 == 1 else dict(fuzz_headers)
    if turn % 4 != 2:
        headers["If-Match"] = "*"  # past the lost-update guard (428) into the handlers' own validation
    response = case.call(base_url=api_url, headers=headers, timeout=15)
    if _is_readiness_report(case, response):
        return
    checks = [not_a_server_error] if response.status_code >= 400 else [not_a_server_error,
                                                                       content_type_conformance]
    case.validate_response(response, checks=checks, headers=headers)
    if 400 <= response.status_code < 500:
        _assert_problem(response)
