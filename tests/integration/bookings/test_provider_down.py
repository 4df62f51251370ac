"""The payment provider down when a booking opens its payment: a sandbox provider of the test's own (a real
process on a free port, never the shared one), stopped; the api answers 503 ``payment_provider_unavailable``
with ``Retry-After`` from its setting, and keeps nothing under the Idempotency-Key, so the same request
retried once the provider is back is accepted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.stack import LocalServer, LocalStack
from tests.integration.bookings.conftest import booking_body
from tests.integration.bookings.test_saga import _hold
from tests.support.servers import private_server

RETRY_AFTER_S = 7


@pytest.fixture
def sandbox(stack: object, tmp_path: Path) -> Iterator[tuple[LocalStack, LocalServer]]:
    private = private_server("payments", tmp_path)
    try:
        yield private, private.servers[0]
    finally:
        private.stop()


@pytest.fixture
async def paying(settings: Any, sandbox: tuple[LocalStack, LocalServer]) -> AsyncIterator[AsyncTestClient]:
    """An app whose payment provider is the test's own sandbox."""
    mine = msgspec.structs.replace(settings, payment_provider_url=f"http://127.0.0.1:{sandbox[1].port}",
                                   payment_unavailable_retry_after_s=RETRY_AFTER_S)
    async with AsyncTestClient(create_app(mine), base_url="http://127.0.0.1:8000") as client:
        yield client


async def _book(client: AsyncTestClient, headers: dict[str, str], hold_id: str, key: str) -> Any:
    return await client.post("/bookings", json=booking_body([hold_id]), headers=headers | {"Idempotency-Key": key})


async def test_a_provider_that_does_not_answer_is_503_with_retry_after(
    paying: AsyncTestClient, sandbox: tuple[LocalStack, LocalServer], catalog_resort: Any,
    guest_headers: dict[str, str],
) -> None:
    hold_id = await _hold(paying, guest_headers, catalog_resort.room, catalog_resort.start)
    sandbox[0].stop_server(sandbox[1].name)
    response = await _book(paying, guest_headers, hold_id, uuid.uuid4().hex)
    assert (response.status_code, response.json()["code"], response.headers.get("retry-after")) == (
        503, "payment_provider_unavailable", str(RETRY_AFTER_S)), response.text


async def test_the_same_request_retried_once_the_provider_is_back_is_accepted(
    paying: AsyncTestClient, sandbox: tuple[LocalStack, LocalServer], catalog_resort: Any,
    guest_headers: dict[str, str],
) -> None:
    hold_id, key = await _hold(paying, guest_headers, catalog_resort.room, catalog_resort.start), uuid.uuid4().hex
    sandbox[0].stop_server(sandbox[1].name)
    assert (await _book(paying, guest_headers, hold_id, key)).status_code == 503
    sandbox[0].restart_server(sandbox[1].name)
    retried = await _book(paying, guest_headers, hold_id, key)
    assert (retried.status_code, retried.json()["status"]) == (202, "pending"), retried.text
