"""One unit of work per use case (issue 21, point 3): placing a hold writes its row, its lines, its outbox
event, its audit row and its idempotency answer in one transaction; a failure after all of them were written
leaves none of them in PostgreSQL, and the idempotency key stays unanswered (a retry runs the use case)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from app.auth.principal import Principal
from app.holds.domain import HoldRequest
from app.holds.service import HoldService
from app.idempotency import store
from app.idempotency.http import Ticket, json_answer
from app.resources import Resources


class Failure(Exception):
    """The use case fails after its writes (here: right after its idempotency answer)."""


async def test_a_hold_that_fails_after_its_writes_leaves_no_row_no_event_and_no_answer(
    sync_resources: Resources, catalog_resort: Any, catalog_factory: Any
) -> None:
    room, night = catalog_resort.room, catalog_resort.start
    await catalog_factory.capacity(room["id"], night, night + dt.timedelta(days=1), 10)
    guest = Principal(subject=f"uow-{uuid.uuid4().hex[:8]}", kind="user", roles=("guest",))
    key = uuid.uuid4().hex
    fence = await store.claim(sync_resources.db, guest.actor, key, "POST /holds", b"body", 30, 3600)
    ticket = Ticket(guest.actor, key, fence)  # type: ignore[arg-type]
    written: list[uuid.UUID] = []

    async def within(conn: Any, hold: Any) -> None:
        written.append(hold["id"])
        await ticket.record(conn, json_answer(201, {"id": str(hold["id"])}))
        raise Failure

    with pytest.raises(Failure):
        await HoldService(sync_resources).create(guest, HoldRequest(str(room["id"]), night, night + dt.timedelta(
            days=1), 1, 2), within)
    left = await sync_resources.db.fetchrow(
        "SELECT (SELECT count(*) FROM holds WHERE id = $1) AS holds,"
        " (SELECT count(*) FROM hold_lines WHERE hold_id = $1) AS lines,"
        " (SELECT count(*) FROM outbox WHERE aggregate_id = $2) AS events,"
        " (SELECT count(*) FROM audit_log WHERE detail->>'hold_id' = $2) AS audit,"
        " (SELECT count(*) FROM idempotency_keys WHERE scope = $3 AND key = $4 AND status = 'done') AS answers",
        written[0], str(written[0]), guest.actor, key)
    assert dict(left) == {"holds": 0, "lines": 0, "events": 0, "audit": 0, "answers": 0}
