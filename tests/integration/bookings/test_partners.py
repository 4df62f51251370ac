"""Partners book with scoped tokens, see and cancel only their own bookings, and read a resumable feed."""

from __future__ import annotations

import uuid
from typing import Any

from app.settings import Settings
from tests.integration.bookings.test_saga import _book, _hold, _settled
from tests.integration.holds.test_partners_events import _partner


async def test_partner_bookings_scopes_isolation_and_a_feed_without_gaps(
    saga_roles: Any, client: Any, settings: Settings, catalog_resort: Any, guest_headers: dict[str, str]
) -> None:
    acme = await _partner(settings, "partner-acme", "bookings:read bookings:write")
    globe = await _partner(settings, "partner-globe", "bookings:read bookings:write")
    reader = await _partner(settings, "partner-acme", "bookings:read")
    start = (await client.get("/partner/events", headers=acme)).json()["next"]

    hold_id = await _hold(client, acme, catalog_resort.room, catalog_resort.start)
    refused = await _book(client, reader, [hold_id])
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    confirmed = await _settled(client, acme, (await _book(client, acme, [hold_id])).json()["id"])
    declined_hold = await _hold(client, acme, catalog_resort.slot, catalog_resort.start)
    failed = await _settled(client, acme, (await _book(client, acme, [declined_hold], "tok_decline")).json()["id"])
    assert (confirmed["status"], failed["status"]) == ("confirmed", "failed")

    for headers in (globe, guest_headers):
        assert (await client.get(f"/bookings/{confirmed['id']}", headers=headers)).status_code == 404
        cancel = await client.post(f"/bookings/{confirmed['id']}/cancel",
                                   headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
        assert cancel.status_code == 404
    assert [b["id"] for b in (await client.get("/bookings", headers=globe)).json()["items"]] == []

    cancel = await client.post(f"/bookings/{confirmed['id']}/cancel",
                               headers=acme | {"Idempotency-Key": uuid.uuid4().hex})
    assert cancel.status_code == 202
    await _settled(client, acme, confirmed["id"])

    first = (await client.get(f"/partner/events?after={start}&limit=2", headers=acme)).json()
    rest = (await client.get(f"/partner/events?after={first['next']}", headers=acme)).json()
    events = [(e["booking_id"], e["type"]) for e in first["events"] + rest["events"]]
    assert first["has_more"] and len(first["events"]) == 2
    assert events == [(confirmed["id"], "booking.created"), (confirmed["id"], "booking.confirmed"),
                      (failed["id"], "booking.created"), (failed["id"], "booking.failed"),
                      (confirmed["id"], "booking.cancelled")]
    cursors = [int(e["cursor"]) for e in first["events"] + rest["events"]]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert (await client.get(f"/partner/events?after={rest['next']}", headers=acme)).json()["events"] == []
    assert (await client.get(f"/partner/events?after={start}", headers=globe)).json()["events"] == []
    assert (await client.get("/partner/events", headers=guest_headers)).status_code == 403
    assert (await client.get("/partner/events?after=abc", headers=acme)).status_code == 422
