"""Partners hold with scoped IdP tokens and see only their own holds; every hold change travels as its own
events (never as a product change) and leaves an audit row naming the actor."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from app.settings import Settings
from tests.integration.holds.conftest import hold_body
from tests.support.idp import client_credentials_token


async def _partner(settings: Settings, client_id: str, scope: str) -> dict[str, str]:
    answer = await client_credentials_token(settings.oidc_issuer, client_id, f"{client_id}-secret", scope)
    return {"Authorization": f"Bearer {answer['access_token']}"}


async def test_partners_hold_with_scopes_and_see_only_their_own(
    client: Any, settings: Settings, catalog_resort: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    acme = await _partner(settings, "partner-acme", "bookings:read bookings:write")
    globe = await _partner(settings, "partner-globe", "bookings:read bookings:write")
    reader = await _partner(settings, "partner-acme", "bookings:read")
    blocked = await _partner(settings, "partner-blocked", "catalog:read")

    mine = await hold(acme, hold_body(catalog_resort.room, catalog_resort.start))
    assert mine.status_code == 201, mine.text
    hold_id = mine.json()["id"]
    assert hold_id in [h["id"] for h in (await client.get("/holds", headers=acme)).json()["items"]]
    assert hold_id not in [h["id"] for h in (await client.get("/holds", headers=globe)).json()["items"]]
    for headers in (globe, guest_headers):
        assert (await client.get(f"/holds/{hold_id}", headers=headers)).status_code == 404
        assert (await client.delete(f"/holds/{hold_id}", headers=headers)).status_code == 404
    assert (await client.get(f"/holds/{hold_id}", headers=reader)).status_code == 200
    for headers in (reader, blocked):
        refused = await hold(headers, hold_body(catalog_resort.room, catalog_resort.start))
        assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    assert (await client.delete(f"/holds/{hold_id}", headers=reader)).status_code == 403
    assert (await client.delete(f"/holds/{hold_id}", headers=acme)).status_code == 204


async def _events(catalog_factory: Any, aggregate_ids: list[str]) -> list[dict[str, Any]]:
    rows = await catalog_factory.fetch(
        "SELECT topic, event_type, aggregate_id, payload::text AS payload FROM outbox"
        " WHERE aggregate_id = ANY($1::text[]) ORDER BY id", aggregate_ids)
    return [r | {"payload": json.loads(r["payload"])} for r in rows]


async def test_a_hold_travels_as_hold_and_availability_events_not_as_a_product_change(
    client: Any, catalog_resort: Any, catalog_factory: Any, guest_headers: dict[str, str], hold: Any
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    before = await catalog_factory.reload(room["id"])
    catalog_events = len(await _events(catalog_factory, [str(room["id"])]))
    created = (await hold(guest_headers, hold_body(room, night, quantity=2, guests=3))).json()
    assert (await client.delete(f"/holds/{created['id']}", headers=guest_headers)).status_code == 204

    assert (await catalog_factory.reload(room["id"]))["version"] == before["version"]
    product_events = (await _events(catalog_factory, [str(room["id"])]))[catalog_events:]
    assert [(e["topic"], e["event_type"]) for e in product_events] == [("inventory", "availability.changed")] * 2
    taken, returned = (e["payload"] for e in product_events)
    assert taken["cause"] == "hold.created" and returned["cause"] == "hold.released"
    assert taken["property_id"] == catalog_resort.property["id"] and taken["hold_id"] == created["id"]
    assert [(n["night"], n["held"], n["free"]) for n in taken["nights"]] == [(night.isoformat(), 2, 3)]
    assert [(n["held"], n["free"]) for n in returned["nights"]] == [(0, 5)]
    assert returned["nights"][0]["version"] > taken["nights"][0]["version"]
    hold_events = await _events(catalog_factory, [created["id"]])
    assert [(e["topic"], e["event_type"]) for e in hold_events] == [("holds", "hold.created"),
                                                                    ("holds", "hold.released")]
    assert hold_events[0]["payload"]["owner_kind"] == "user" and hold_events[0]["payload"]["quantity"] == 2

    audit = await catalog_factory.fetch("SELECT action, actor FROM audit_log WHERE detail->>'hold_id' = $1 ORDER BY id",
                                        created["id"])
    owner = hold_events[0]["payload"]["owner_id"]
    assert [(a["action"], a["actor"]) for a in audit] == [("hold.created", f"user:{owner}"),
                                                           ("hold.released", f"user:{owner}")]


def _sample(text: str, name: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(name + " ") or line.startswith(name + "{")]
    return float(lines[0].split()[-1]) if lines else 0.0


async def test_holds_are_counted_in_metrics(client: Any, catalog_resort: Any, guest_headers: dict[str, str],
                                            hold: Any) -> None:
    refused, created = 'resort_holds_refused_total{reason="sold_out"}', "resort_holds_created_total"
    before = (await client.get("/metrics")).text
    await hold(guest_headers, hold_body(catalog_resort.room, catalog_resort.start, quantity=9, guests=9))
    await hold(guest_headers, hold_body(catalog_resort.room, catalog_resort.start))
    after = (await client.get("/metrics")).text
    assert _sample(after, refused) == _sample(before, refused) + 1
    assert _sample(after, created) == _sample(before, created) + 1
    assert _sample(after, "resort_hold_decision_seconds_count") == _sample(before, "resort_hold_decision_seconds_count") + 2


async def test_a_capacity_change_travels_as_an_availability_event(catalog_resort: Any, catalog_factory: Any) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    before = len(await _events(catalog_factory, [str(room["id"])]))
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=2), 8)
    events = [e for e in (await _events(catalog_factory, [str(room["id"])]))[before:] if e["topic"] == "inventory"]
    assert len(events) == 1 and events[0]["payload"]["cause"] == "capacity"
    assert [(n["night"], n["capacity"], n["free"]) for n in events[0]["payload"]["nights"]] == [
        (night.isoformat(), 8, 8), ((night + dt.timedelta(days=1)).isoformat(), 8, 8)]
