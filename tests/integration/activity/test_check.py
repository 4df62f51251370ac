"""``resort activity check`` (and ``GET /admin/analytics/check``): the rollups of bookings against the bookings
table. Bookings written in PostgreSQL and their events counted by the activity path (the messages the saga
announces, turned into events as the role does) give no difference; one event that never arrived gives exactly
the difference it should."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from app.activity import check, ingest, store
from app.outbox import EventEnvelope
from app.resources import Resources
from app.settings import Settings
from tests.integration.sync.rows import create_product, create_property

START = dt.date.today() + dt.timedelta(days=40)


@dataclass(frozen=True, slots=True)
class Booked:
    id: uuid.UUID
    status: str
    owner: tuple[str, str]
    check_in: dt.date
    check_out: dt.date


async def _booking(db: Any, property_id: str, products: list[str], nights: tuple[int, int], status: str,
                   owner: tuple[str, str]) -> Booked:
    """A booking of ``products`` (rate plan ``bar``) for the nights [START + a, START + b), as the saga leaves it."""
    check_in, check_out = START + dt.timedelta(days=nights[0]), START + dt.timedelta(days=nights[1])
    async with db.acquire() as conn, conn.transaction():
        booking = await conn.fetchval(
            "INSERT INTO bookings (owner_kind, owner_id, property_id, status, step, guest, total_amount, currency,"
            " check_in, check_out, step_deadline, deadline) VALUES ($1, $2, $3, $4, 'done', $5::jsonb, 100000, 'KRW',"
            " $6, $7, now(), now()) RETURNING id", *owner, property_id, status,
            json.dumps({"name": "Hong Gil-dong", "email": "g@example.com"}), check_in, check_out)
        for product in products:
            hold = await conn.fetchval(
                "INSERT INTO holds (owner_kind, owner_id, product_id, property_id, check_in, check_out, quantity,"
                " guests, rate_plan, total_amount, currency, status, created_at, expires_at, ended_at, booking_id)"
                " VALUES ($1, $2, $3::uuid, $4, $5, $6, 1, 2, 'bar', 50000, 'KRW', 'converted', now() - interval"
                " '1 minute', now(), now(), $7) RETURNING id", *owner, product, property_id, check_in, check_out,
                booking)
            await conn.execute("INSERT INTO booking_holds (booking_id, hold_id) VALUES ($1, $2)", booking, hold)
    return Booked(booking, status, owner, check_in, check_out)


def _announced(property_id: str, booking: Booked, status: str) -> EventEnvelope:
    """The saga's ``booking.<status>`` message of the booking (``app.bookings.repository.announce``)."""
    return EventEnvelope(event_id=uuid.uuid4(), topic="bookings", event_type=f"booking.{status}",
                         aggregate_type="booking", aggregate_id=str(booking.id), version=2,
                         occurred_at=dt.datetime.now(dt.UTC), payload={
                             "booking_id": str(booking.id), "status": status, "property_id": property_id,
                             "owner_kind": booking.owner[0], "owner_id": booking.owner[1],
                             "check_in": booking.check_in.isoformat(), "check_out": booking.check_out.isoformat()})


@pytest.fixture
async def resort(sync_resources: Resources, settings: Settings) -> dict[str, Any]:
    """A resort with two products and four bookings: confirmed, cancelled (two products), a partner's
    confirmed stay and a failed one; the messages each would have sent, by name."""
    db = sync_resources.db
    prop = await create_property(db, f"check-{uuid.uuid4().hex[:10]}")
    room, spa = (await create_product(db, prop, name="Check Room"),
                 await create_product(db, prop, name="Check Spa", kind="facility_slot"))
    guest, other, partner = ("user", f"g-{uuid.uuid4().hex[:6]}"), ("user", "g2"), ("partner", "partner-acme")
    stay = await _booking(db, prop, [room], (0, 2), "confirmed", guest)
    cancelled = await _booking(db, prop, [room, spa], (1, 2), "cancelled", other)
    partners = await _booking(db, prop, [spa], (3, 6), "confirmed", partner)
    failed = await _booking(db, prop, [room], (0, 1), "failed", guest)
    messages = {"stay": _announced(prop, stay, "confirmed"), "booked": _announced(prop, cancelled, "confirmed"),
                "cancelled": _announced(prop, cancelled, "cancelled"),
                "partner": _announced(prop, partners, "confirmed"), "failed": _announced(prop, failed, "failed")}
    return {"prop": prop, "room": room, "spa": spa, "messages": messages}


async def _counted(resources: Resources, settings: Settings, messages: list[EventEnvelope]) -> None:
    """The activity role's path: messages -> events (lines from PostgreSQL) -> MongoDB -> rollups."""
    db = resources.mongo[settings.mongo_db]
    await store.ensure_indexes(db, settings.activity_retention_days)
    await store.ingest(db, await ingest.events_of(resources, messages))
    await ingest.drain(resources.mongo, db, ingest.Batch(settings.activity_rollup_batch))


async def _check(resources: Resources, settings: Settings, prop: str) -> check.CheckReport:
    return await check.check(resources.db, resources.mongo[settings.mongo_db], prop, START - dt.timedelta(days=5),
                             START + dt.timedelta(days=30))


async def test_bookings_and_their_counted_events_agree(sync_resources: Resources, settings: Settings,
                                                       resort: dict[str, Any]) -> None:
    await _counted(sync_resources, settings, list(resort["messages"].values()))
    report = await _check(sync_resources, settings, resort["prop"])
    assert (report.bookings, report.differences) == (3, [])


def _lost_partner_stay(resort: dict[str, Any]) -> list[check.Difference]:
    """The differences the partner's confirmed stay of the spa (nights 3..5) makes when its event is lost."""
    spa = resort["spa"]
    nights = [(START + dt.timedelta(days=i)).isoformat() for i in (3, 4, 5)]
    return [*(check.Difference("demand", f"{spa}|{night}", "bookings", 1, 0) for night in nights),
            check.Difference("rates", f"{spa}|bar", "bookings", 2, 1)]


async def test_an_event_that_never_arrived_is_exactly_the_difference(sync_resources: Resources, settings: Settings,
                                                                     resort: dict[str, Any]) -> None:
    lost = resort["messages"].pop("partner")
    await _counted(sync_resources, settings, list(resort["messages"].values()))
    report = await _check(sync_resources, settings, resort["prop"])
    assert lost.event_type == "booking.confirmed" and report.differences == _lost_partner_stay(resort)


async def test_the_revenue_team_reads_the_same_differences_from_the_api(
        client: Any, admin_headers: dict[str, str], sync_resources: Resources, settings: Settings,
        resort: dict[str, Any]) -> None:
    resort["messages"].pop("partner")
    await _counted(sync_resources, settings, list(resort["messages"].values()))
    params = {"property": resort["prop"], "start": (START - dt.timedelta(days=5)).isoformat(),
              "end": (START + dt.timedelta(days=30)).isoformat()}
    response = await client.get("/admin/analytics/check", params=params, headers=admin_headers)
    assert response.json()["differences"] == [check.as_json_difference(d) for d in _lost_partner_stay(resort)]
