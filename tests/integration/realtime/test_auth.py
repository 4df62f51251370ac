"""Who may listen on /live: Origin of cookie handshakes, the auth op, expiry and renewal, revocation on
every instance, booking and front-desk channels."""

from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import InvalidStatus

from app.auth.principal import Principal
from app.resources import Resources
from realtime.access import Refused, authorize
from realtime.channels import CLOSE_AUTH_TIMEOUT, CLOSE_SESSION_ENDED, CLOSE_TOKEN_EXPIRED, parse_channel
from realtime.publisher import Publisher
from tests.integration.realtime import events
from tests.integration.realtime.client import Live


async def _booking(sync_resources: Resources, publisher: Publisher, prop: str, booking_id: str, owner: str,
                   status: str = "pending", version: int = 1, partner: str | None = None) -> None:
    event = await events.booking(sync_resources.db, prop, booking_id, status, owner_id=owner, version=version,
                                 partner_client_id=partner)
    assert await publisher.handle(event) == "published"


async def test_cookie_from_a_foreign_origin_is_refused(live_api: str, auth_kit, catalog_resort, unique: str,
                                                       sync_resources: Resources, publisher: Publisher) -> None:
    subject = f"guest-{unique}"
    headers, _ = await auth_kit.sign_in(["guest"], subject)
    cookie = {"Cookie": "resort_access=" + headers["Authorization"].removeprefix("Bearer ")}
    with pytest.raises(InvalidStatus) as refused:
        await Live.open(live_api, headers=cookie, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        await Live.open(live_api, headers=cookie)  # no Origin at all: refused too
    await _booking(sync_resources, publisher, catalog_resort.property["id"], f"bk-{unique}", subject)
    live = await Live.open(live_api, headers=cookie, origin=live_api)
    snapshot = await live.subscribe(f"booking:bk-{unique}")
    assert snapshot["type"] == "snapshot" and snapshot["data"]["status"] == "pending"
    await live.close()
    public = await Live.open(live_api, origin="https://evil.example")  # no cookie: public availability is open
    assert (await public.subscribe(f"availability:{catalog_resort.property['id']}"))["type"] == "snapshot"
    await public.close()


async def test_a_refused_handshake_says_why_with_its_own_status_and_problem(live_api: str, auth_kit) -> None:
    """An ended session or a bad token is 401 with its problem code, not the 403 an origin refusal gets, so a
    client knows to sign in again rather than give up."""
    headers, sid = await auth_kit.sign_in(["guest"])
    await auth_kit.sessions.revoke(sid)
    for sent, code in ((headers, "session_ended"), ({"Authorization": "Bearer not-a-jwt"}, "invalid_token")):
        with pytest.raises(InvalidStatus) as refused:
            await Live.open(live_api, headers=sent)
        answer = refused.value.response
        assert answer.status_code == 401, answer
        assert answer.headers["content-type"] == "application/problem+json"
        assert json.loads(answer.body)["code"] == code
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_a_socket_that_never_authenticates_is_closed(live_api: str) -> None:
    live = await Live.open(live_api)
    assert await live.closed() == CLOSE_AUTH_TIMEOUT


async def test_reauth_then_in_band_renewal_keeps_the_sequence(live_api: str, auth_kit, catalog_resort, unique: str,
                                                              sync_resources: Resources, publisher: Publisher) -> None:
    subject, booking_id = f"guest-{unique}", f"bk-{unique}"
    _, sid = await auth_kit.sign_in(["guest"], subject)
    short = auth_kit.tokens.mint(subject=subject, session_id=sid, roles=["guest"], ttl=3)
    await _booking(sync_resources, publisher, catalog_resort.property["id"], booking_id, subject)
    renewing, lapsing = await Live.open(live_api), await Live.open(live_api)
    for live in (renewing, lapsing):
        await live.send(op="auth", token=short)
        snapshot = await live.subscribe(f"booking:{booking_id}")
    reauth = await renewing.until(lambda f: f["type"] == "reauth")
    assert 0 <= reauth["expires_in"] <= 3
    await renewing.send(op="auth", token=auth_kit.tokens.mint(subject=subject, session_id=sid, roles=["guest"]))
    assert await lapsing.closed() == CLOSE_TOKEN_EXPIRED  # the same token, not renewed
    await _booking(sync_resources, publisher, catalog_resort.property["id"], booking_id, subject, "reserved", 2)
    update = await renewing.until(lambda f: f["type"] == "update")
    assert (update["epoch"], update["seq"]) == (snapshot["epoch"], snapshot["seq"] + 1)
    assert update["data"]["status"] == "reserved"
    await renewing.pong()
    await renewing.close()


async def test_logout_closes_the_sessions_sockets_on_every_instance(live_api: str, live_api2: str, auth_kit,
                                                                    catalog_resort) -> None:
    headers, sid = await auth_kit.sign_in(["guest"])
    other_headers, _ = await auth_kit.sign_in(["guest"])
    channel = f"availability:{catalog_resort.property['id']}"
    mine = [await Live.open(url, headers=headers) for url in (live_api, live_api2)]
    other = await Live.open(live_api, headers=other_headers)
    for live in (*mine, other):
        await live.subscribe(channel)
    started = time.monotonic()
    await auth_kit.sessions.revoke(sid)
    codes = [await live.closed(timeout=5) for live in mine]
    assert codes == [CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED]
    assert time.monotonic() - started < 1.0
    await other.pong()  # another session's socket is untouched
    await other.close()


async def test_booking_and_frontdesk_channels_are_not_for_everyone(live_api: str, auth_kit, catalog_resort,
                                                                   unique: str, sync_resources: Resources,
                                                                   publisher: Publisher) -> None:
    prop, booking_id = catalog_resort.property["id"], f"bk-{unique}"
    owner_headers, _ = await auth_kit.sign_in(["guest"], f"guest-{unique}")
    stranger_headers, _ = await auth_kit.sign_in(["guest"])
    desk_headers, _ = await auth_kit.sign_in(["front_desk", "guest", f"property:{prop}"])
    await _booking(sync_resources, publisher, prop, booking_id, f"guest-{unique}", partner="partner-acme")
    stranger = await Live.open(live_api, headers=stranger_headers)
    for channel in (f"booking:{booking_id}", f"frontdesk:{prop}", "booking:never-made"):
        refused = await stranger.subscribe(channel)
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
    owner = await Live.open(live_api, headers=owner_headers)
    assert (await owner.subscribe(f"booking:{booking_id}"))["type"] == "snapshot"
    desk = await Live.open(live_api, headers=desk_headers)
    assert (await desk.subscribe(f"booking:{booking_id}"))["data"]["status"] == "pending"
    board = await desk.subscribe(f"frontdesk:{prop}")
    assert board["type"] == "snapshot" and board["data"]["feed"][-1]["data"]["booking_id"] == booking_id
    for live in (stranger, owner, desk):
        await live.close()
    channel = parse_channel(f"booking:{booking_id}")
    assert channel is not None
    acme = Principal(subject="acme", kind="partner", roles=("partner",), client_id="partner-acme")
    await authorize(sync_resources.redis, sync_resources.db, channel, acme)
    with pytest.raises(Refused):
        await authorize(sync_resources.redis, sync_resources.db, channel, Principal(subject="x", kind="partner", client_id="other"))
