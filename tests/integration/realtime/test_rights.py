"""Rights are checked at every step: a renewed token re-checks every open subscription, and a booking's
stream is only its guest's, its partner's and its property's staff's; subscribing never creates a stream."""

from __future__ import annotations

import uuid

from app.resources import Resources
from realtime.channels import meta_key, stream_key
from realtime.publisher import Publisher
from tests.integration.realtime import events
from tests.integration.realtime.client import Live


async def _booking(resources: Resources, publisher: Publisher, prop: str, booking_id: str, owner: str,
                   status: str = "pending", version: int = 1) -> None:
    event = await events.booking(resources.db, prop, booking_id, status, owner_id=owner, version=version)
    assert await publisher.handle(event) == "published"


async def test_a_renewed_token_ends_the_subscriptions_it_no_longer_allows(
        live_api: str, auth_kit, catalog_resort, unique: str, sync_resources: Resources,
        publisher: Publisher) -> None:
    prop, subject = catalog_resort.property["id"], f"desk-{unique}"
    own, other = f"bk-own-{unique}", f"bk-other-{unique}"
    await _booking(sync_resources, publisher, prop, own, subject)
    await _booking(sync_resources, publisher, prop, other, f"someone-{unique}")
    staff = ["front_desk", "guest", f"property:{prop}"]  # front desk of this property
    _, sid = await auth_kit.sign_in(staff, subject)
    live = await Live.open(live_api)
    await live.send(op="auth", token=auth_kit.tokens.mint(subject=subject, session_id=sid, roles=staff))
    channels = [f"frontdesk:{prop}", f"booking:{other}", f"booking:{own}", f"availability:{prop}"]
    for channel in channels:
        assert (await live.subscribe(channel))["type"] == "snapshot"
    await live.send(op="auth", token=auth_kit.tokens.mint(subject=subject, session_id=sid, roles=["guest"]))
    ended = [await live.until(lambda f: f["type"] == "error") for _ in range(2)]
    assert sorted((f["code"], f["channel"]) for f in ended) == sorted(
        [("subscription_ended", f"frontdesk:{prop}"), ("subscription_ended", f"booking:{other}")])
    await _booking(sync_resources, publisher, prop, own, subject, "reserved", 2)
    await _booking(sync_resources, publisher, prop, other, f"someone-{unique}", "reserved", 2)
    update = await live.until(lambda f: f["type"] == "update")
    assert update["channel"] == f"booking:{own}"  # the one it still may read, and nothing of the ended ones
    await live.pong()
    await live.close()


async def test_staff_cannot_open_a_stream_of_a_booking_that_does_not_exist(
        live_api: str, auth_kit, sync_resources: Resources) -> None:
    headers, _ = await auth_kit.sign_in(["admin"])
    live = await Live.open(live_api, headers=headers)
    for booking_id in (f"invented-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())):
        channel = f"booking:{booking_id}"
        refused = await live.subscribe(channel)
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        assert await sync_resources.redis.exists(meta_key(channel), stream_key(channel)) == 0
    await live.close()
