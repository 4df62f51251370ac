"""Claims on one hot night decided together (issue 21, point 4): the claims that queue behind the night's
writer in one process are written in one transaction with one guarded update, on the real PostgreSQL and
Redis. Each claim gets its own answer: exactly the free units win, the rest are ``sold_out`` (not ``busy``),
a claim refused on its own (``too_many_holds``) is undone alone, and every winner has its hold, lines,
events and idempotency answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from typing import Any

from app.auth.principal import Principal
from app.errors import ServiceUnavailable
from app.holds.domain import HoldRefused, HoldRequest
from app.holds.metrics import ROUND_CLAIMS
from app.holds.service import HoldService
from app.idempotency import store
from app.idempotency.http import Ticket, json_answer
from app.resources import Resources


def _rounds() -> tuple[float, float]:
    """(rounds, claims) decided together so far in this process."""
    samples = {s.name: s.value for s in ROUND_CLAIMS.collect()[0].samples}
    return samples["resort_hold_round_claims_count"], samples["resort_hold_round_claims_sum"]


async def _within(sync_resources: Resources, guest: Principal) -> tuple[str, Any]:
    key = uuid.uuid4().hex
    fence = await store.claim(sync_resources.db, guest.actor, key, "POST /holds", key.encode(), 30, 3600)
    ticket = Ticket(guest.actor, key, fence)  # type: ignore[arg-type]

    async def within(conn: Any, hold: Any) -> None:
        await ticket.record(conn, json_answer(201, {"id": str(hold["id"])}))

    return key, within


async def _race(service: HoldService, request: HoldRequest, claims: list[tuple[Principal, str, Any]]) -> list[str]:
    async def one(guest: Principal, within: Any) -> str:
        try:
            await service.create(guest, request, within)
        except HoldRefused as exc:
            return exc.code
        except ServiceUnavailable as exc:
            return exc.code
        return "held"

    return await asyncio.gather(*(one(guest, within) for guest, _, within in claims))


async def _claims(sync_resources: Resources, run: str, count: int) -> list[tuple[Principal, str, Any]]:
    guests = [Principal(subject=f"together-{run}-{n}", kind="user", roles=("guest",)) for n in range(count)]
    return [(guest, *(await _within(sync_resources, guest))) for guest in guests]


async def _winners(sync_resources: Resources, product_id: Any, night: dt.date) -> list[Any]:
    return await sync_resources.db.fetch(
        "SELECT h.id, (SELECT count(*) FROM hold_lines l WHERE l.hold_id = h.id) AS lines,"
        " (SELECT count(*) FROM outbox o WHERE o.aggregate_id = h.id::text AND o.event_type = 'hold.created')"
        " AS events FROM holds h WHERE h.product_id = $1 AND h.check_in = $2 AND h.status = 'held'",
        product_id, night)


async def _answered(sync_resources: Resources, claims: list[tuple[Principal, str, Any]]) -> int:
    return await sync_resources.db.fetchval(
        "SELECT count(*) FROM idempotency_keys WHERE key = ANY($1::text[]) AND status = 'done'",
        [key for _, key, _ in claims])


async def test_claims_behind_a_hot_nights_writer_are_decided_together_and_never_told_busy(
    sync_resources: Resources, catalog_resort: Any, catalog_factory: Any
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 10)
    service = HoldService(sync_resources)
    claims = await _claims(sync_resources, uuid.uuid4().hex[:8], 60)
    rounds_before, claims_before = _rounds()

    outcomes = await _race(service, HoldRequest(str(room["id"]), night, night + dt.timedelta(days=1), 1, 2), claims)

    assert Counter(outcomes) == {"held": 10, "sold_out": 50}
    rounds, together = _rounds()
    assert rounds > rounds_before and together - claims_before >= 2  # claims were decided in one round
    row = await sync_resources.db.fetchrow("SELECT held, sold FROM inventory WHERE product_id = $1 AND night = $2",
                                           room["id"], night)
    assert (row["held"], row["sold"]) == (10, 0)
    winners = await _winners(sync_resources, room["id"], night)
    assert len(winners) == 10 and {(w["lines"], w["events"]) for w in winners} == {(1, 1)}
    assert await _answered(sync_resources, claims) == 10  # refusals are answered by the caller, not the round


async def test_a_claim_refused_inside_a_round_is_undone_alone(
    sync_resources: Resources, catalog_resort: Any, catalog_factory: Any
) -> None:
    room, ticket, night = catalog_resort.room, catalog_resort.ticket, catalog_resort.start + dt.timedelta(days=1)
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 40)
    service = HoldService(sync_resources)
    run = uuid.uuid4().hex[:8]
    hoarder = Principal(subject=f"together-{run}-hoarder", kind="user", roles=("guest",))
    for _ in range(sync_resources.settings.hold_max_active_per_user):  # at its limit of active holds
        await service.create(hoarder, HoldRequest(str(ticket["id"]), night, night + dt.timedelta(days=1), 1, 1),
                             (await _within(sync_resources, hoarder))[1])
    claims = await _claims(sync_resources, run, 30)
    claims.insert(5, (hoarder, *(await _within(sync_resources, hoarder))))

    outcomes = await _race(service, HoldRequest(str(room["id"]), night, night + dt.timedelta(days=1), 1, 2), claims)

    assert outcomes[5] == "too_many_holds" and Counter(outcomes) == {"held": 30, "too_many_holds": 1}
    row = await sync_resources.db.fetchrow("SELECT held FROM inventory WHERE product_id = $1 AND night = $2",
                                           room["id"], night)
    assert row["held"] == 30  # the refused claim's unit was not taken
    winners = await _winners(sync_resources, room["id"], night)
    assert len(winners) == 30 and {(w["lines"], w["events"]) for w in winners} == {(1, 1)}
    assert await _answered(sync_resources, claims) == 30
