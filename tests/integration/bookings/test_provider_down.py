"""The payment provider down when a booking opens its payment: an api process and a sandbox provider of the
test's own (real processes on free ports, never the shared sandbox), the sandbox stopped; the api answers 503
``payment_provider_unavailable`` with ``Retry-After`` from its setting, and keeps nothing under the
Idempotency-Key, so the same request retried once the provider is back is accepted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from app.stack import LocalServer, LocalStack
from tests.integration.bookings.conftest import booking_body
from tests.integration.bookings.test_saga import _hold
from tests.support.auth import serve_api, subprocess_environment
from tests.support.servers import free_port, private_server

RETRY_AFTER_S = 7


@pytest.fixture(scope="module")
def private_sandbox(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, LocalServer]]:
    private = private_server("payments", tmp_path_factory.mktemp("sandbox"))
    try:
        yield private, private.servers[0]
    finally:
        private.stop()


@pytest.fixture
def sandbox(private_sandbox: tuple[LocalStack, LocalServer]) -> tuple[LocalStack, LocalServer]:
    """The module's sandbox, answering at the start of each test (a test before may have stopped it)."""
    private, server = private_sandbox
    if not server.answers():
        private.restart_server(server.name)
    return private_sandbox


@pytest.fixture(scope="module")
def payment_api(settings: Any, private_sandbox: tuple[LocalStack, LocalServer]) -> Iterator[str]:
    """An api process whose payment provider is the module's own sandbox."""
    env = {**subprocess_environment(settings),
           "RESORT_PAYMENT_PROVIDER_URL": f"http://127.0.0.1:{private_sandbox[1].port}",
           "RESORT_PAYMENT_UNAVAILABLE_RETRY_AFTER_S": str(RETRY_AFTER_S)}
    with serve_api(env, free_port(), timeout=90) as url:  # a busy machine starts an api slowly
        yield url


@pytest.fixture
async def paying(payment_api: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=payment_api, timeout=30) as client:
        yield client


async def _book(client: httpx.AsyncClient, headers: dict[str, str], hold_id: str, key: str) -> Any:
    return await client.post("/bookings", json=booking_body([hold_id]), headers=headers | {"Idempotency-Key": key})


async def test_a_provider_that_does_not_answer_is_503_with_retry_after(
    paying: httpx.AsyncClient, sandbox: tuple[LocalStack, LocalServer], catalog_resort: Any,
    guest_headers: dict[str, str],
) -> None:
    hold_id = await _hold(paying, guest_headers, catalog_resort.room, catalog_resort.start)
    sandbox[0].stop_server(sandbox[1].name)
    response = await _book(paying, guest_headers, hold_id, uuid.uuid4().hex)
    assert (response.status_code, response.json()["code"], response.headers.get("retry-after")) == (
        503, "payment_provider_unavailable", str(RETRY_AFTER_S)), response.text


async def test_the_same_request_retried_once_the_provider_is_back_is_accepted(
    paying: httpx.AsyncClient, sandbox: tuple[LocalStack, LocalServer], catalog_resort: Any,
    guest_headers: dict[str, str],
) -> None:
    hold_id, key = await _hold(paying, guest_headers, catalog_resort.room, catalog_resort.start), uuid.uuid4().hex
    sandbox[0].stop_server(sandbox[1].name)
    assert (await _book(paying, guest_headers, hold_id, key)).status_code == 503
    sandbox[0].restart_server(sandbox[1].name)
    retried = await _book(paying, guest_headers, hold_id, key)
    assert (retried.status_code, retried.json()["status"]) == (202, "pending"), retried.text
