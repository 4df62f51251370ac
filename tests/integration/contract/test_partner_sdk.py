"""The partner journey through the Python client generated from the document the running api serves:
a client-credentials token, search, hold, book, poll, the feed, cancel, and every refusal parsed into
the typed ``Problem``. A contract change that breaks partners breaks this test."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import time
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from app.contract.version import version_of
from app.settings import Settings
from tests.support.auth import serve_api, subprocess_environment
from tests.support.clients import import_package, python_client
from tests.support.idp import client_credentials_token
from tests.support.servers import free_port


@pytest.fixture(scope="module")
def sdk_api(settings: Settings, stack: object) -> Iterator[str]:
    with serve_api(subprocess_environment(settings), free_port()) as url:
        yield url


@pytest.fixture(scope="module")
def sdk(sdk_api: str, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The client generated from ``/docs/openapi.json`` as served, imported as ``partner_sdk``."""
    doc = httpx.get(f"{sdk_api}/docs/openapi.json", timeout=30).json()
    generated = python_client(doc, tmp_path_factory.mktemp("sdk"))
    return import_package(generated.root, "partner_sdk")


def test_the_served_document_carries_the_version_of_its_contract(sdk_api: str) -> None:
    doc = httpx.get(f"{sdk_api}/docs/openapi.json", timeout=30).json()
    assert doc["info"]["version"] == version_of(doc)


def _module(sdk: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{sdk.__name__}.{name}")


def _settled(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = read()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


async def test_a_partner_books_and_cancels_through_the_generated_client(
        saga_roles: Any, sdk: ModuleType, sdk_api: str, settings: Settings, catalog_resort: Any) -> None:
    token = await client_credentials_token(settings.oidc_issuer, "partner-acme", "partner-acme-secret",
                                           "catalog:read bookings:read bookings:write")
    client = sdk.AuthenticatedClient(base_url=sdk_api, token=token["access_token"], raise_on_unexpected_status=True)
    await asyncio.to_thread(_journey, sdk, client, catalog_resort)


def _journey(sdk: ModuleType, client: Any, resort: Any) -> None:
    models = _module(sdk, "models")
    api = "api"
    search = _module(sdk, f"{api}.search.search_search_products")
    create_hold = _module(sdk, f"{api}.holds.holds_create")
    read_hold = _module(sdk, f"{api}.holds.holds_hold_id_get_one")
    list_holds = _module(sdk, f"{api}.holds.holds_list_mine")
    release_hold = _module(sdk, f"{api}.holds.holds_hold_id_release")
    book = _module(sdk, f"{api}.bookings.bookings_create")
    read_booking = _module(sdk, f"{api}.bookings.bookings_booking_id_get_one")
    cancel = _module(sdk, f"{api}.bookings.bookings_booking_id_cancel_cancel")
    feed = _module(sdk, f"{api}.partners.partner_events_events")

    found = search.sync_detailed(client=client, property_=[str(resort.property["id"])])
    assert found.status_code == 200 and isinstance(found.parsed, models.SearchResult)
    start = feed.sync(client=client)
    assert isinstance(start, models.FeedPage)

    def hold_in(product: dict[str, Any], nights: int = 1) -> Any:
        return models.HoldIn(product_id=str(product["id"]), check_in=resort.start,
                             check_out=resort.start + dt.timedelta(days=nights), quantity=1, guests=2)

    created = create_hold.sync_detailed(client=client, body=hold_in(resort.room), idempotency_key=uuid.uuid4().hex)
    hold = created.parsed
    assert created.status_code == 201 and isinstance(hold, models.HoldOut) and hold.status == "held"
    assert all(isinstance(night, models.HoldNight) for night in hold.nights)
    assert isinstance(read_hold.sync(hold.id, client=client), models.HoldOut)
    assert hold.id in [h.id for h in list_holds.sync(client=client).items]

    body = models.BookingIn(hold_ids=[hold.id], guest=models.GuestIn(name="Hong Gil-dong", email="gd@example.com"),
                            payment=models.PaymentIn(card_token="tok_approve"))
    accepted = book.sync_detailed(client=client, body=body, idempotency_key=uuid.uuid4().hex)
    assert accepted.status_code == 202 and isinstance(accepted.parsed, models.BookingOut)
    booking = _settled(lambda: read_booking.sync(accepted.parsed.id, client=client),
                       lambda b: b.status in ("confirmed", "failed"))
    assert booking.status == "confirmed"

    def mine() -> list[tuple[str, str]]:
        return [(e.booking_id, str(e.type_)) for e in feed.sync(client=client, after=start.next_).events
                if e.booking_id == booking.id]

    assert _settled(mine, lambda events: len(events) >= 2) == [
        (booking.id, "booking.created"), (booking.id, "booking.confirmed")]

    cancelling = cancel.sync_detailed(booking.id, client=client, idempotency_key=uuid.uuid4().hex)
    assert cancelling.status_code == 202 and isinstance(cancelling.parsed, models.BookingOut)
    assert _settled(lambda: read_booking.sync(booking.id, client=client),
                    lambda b: b.status == "cancelled").status == "cancelled"

    # Every refusal is the typed problem, its code the stable one.
    def problem(answer: Any, status: int, code: str) -> None:
        assert (answer.status_code, type(answer.parsed), answer.parsed.code) == (status, models.Problem, code)

    problem(read_hold.sync_detailed("no-such-hold", client=client), 404, "hold_not_found")
    backwards = hold_in(resort.room)
    backwards.check_out = resort.start - dt.timedelta(days=1)
    problem(create_hold.sync_detailed(client=client, body=backwards, idempotency_key=uuid.uuid4().hex),
            422, "invalid_date_range")
    second = create_hold.sync(client=client, body=hold_in(resort.slot), idempotency_key=uuid.uuid4().hex)
    assert release_hold.sync_detailed(second.id, client=client).status_code == 204
    problem(read_hold.sync_detailed(second.id, client=client), 410, "hold_released")
    anonymous = sdk.AuthenticatedClient(base_url=str(client._base_url), token="not-a-token")
    problem(read_booking.sync_detailed(booking.id, client=anonymous), 401, "invalid_token")
