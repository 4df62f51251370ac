"""The checker: the history and the final state of every store against the promises of design.md §4.
Each violation names the operations or rows involved. ``unknown`` outcomes count as "maybe"."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
from pymongo import AsyncMongoClient

from app.payments.reconcile import reconcile
from app.payments.stripe_provider import StripeProvider
from app.settings import Settings
from bench.faults.workload import History

HOLD_GRACE_S = 5.0
SAGA_GRACE_S = 5.0


_MINE = "product_id IN (SELECT id FROM products WHERE property_id = $1)"


async def capacity_violations(conn: asyncpg.Connection, prop: str) -> list[str]:
    rows = await conn.fetch("SELECT product_id, night, capacity, held, sold FROM inventory"
                            f" WHERE {_MINE} AND (held + sold > capacity OR held < 0 OR sold < 0)", prop)
    return [f"over capacity: {dict(r)}" for r in rows]


async def ledger_violations(conn: asyncpg.Connection, prop: str) -> list[str]:
    """held = the units of live holds; sold = the units of converted holds of bookings that still stand."""
    rows = await conn.fetch("""
        SELECT i.product_id, i.night, i.held, i.sold,
               coalesce(sum(l.units) FILTER (WHERE h.status = 'held'), 0) AS live,
               coalesce(sum(l.units) FILTER (WHERE h.status = 'converted'), 0) AS converted
        FROM inventory i LEFT JOIN hold_lines l ON l.product_id = i.product_id AND l.night = i.night
        LEFT JOIN holds h ON h.id = l.hold_id
        WHERE i.product_id IN (SELECT id FROM products WHERE property_id = $1)
        GROUP BY i.product_id, i.night, i.held, i.sold
        HAVING i.held <> coalesce(sum(l.units) FILTER (WHERE h.status = 'held'), 0)
            OR i.sold <> coalesce(sum(l.units) FILTER (WHERE h.status = 'converted'), 0)""", prop)
    return [f"inventory disagrees with its holds: {dict(r)}" for r in rows]


async def hold_violations(conn: asyncpg.Connection, prop: str) -> list[str]:
    late = await conn.fetch(
        "SELECT id, expires_at, ended_at FROM holds WHERE property_id = $2 AND status = 'expired'"
        " AND ended_at > expires_at + make_interval(secs => $1)", HOLD_GRACE_S, prop)
    stuck = await conn.fetch("SELECT id, expires_at FROM holds WHERE property_id = $2 AND status = 'held'"
                             " AND booking_id IS NULL AND expires_at < now() - make_interval(secs => $1)",
                             HOLD_GRACE_S, prop)
    return [f"hold ended late: {dict(r)}" for r in late] + [f"hold never ended: {dict(r)}" for r in stuck]


async def saga_violations(conn: asyncpg.Connection, prop: str) -> list[str]:
    pending = await conn.fetch("SELECT id, status, step FROM bookings WHERE property_id = $1"
                               " AND status IN ('pending', 'cancelling')", prop)
    late = await conn.fetch(
        "SELECT b.id, b.deadline, max(t.at) AS ended FROM bookings b JOIN booking_timeline t ON t.booking_id = b.id"
        " WHERE b.property_id = $2 AND b.status IN ('confirmed', 'failed') AND t.step <> 'cancel'"
        " GROUP BY b.id, b.deadline HAVING max(t.at) > b.deadline + make_interval(secs => $1)", SAGA_GRACE_S, prop)
    return [f"saga not terminal: {dict(r)}" for r in pending] + [f"saga ended past its deadline: {dict(r)}"
                                                                  for r in late]


async def money_violations(conn: asyncpg.Connection, prop: str, settings: Settings) -> list[str]:
    """The payment provider's ledger is the truth (not our ``payments`` table): every capture of the run
    belongs to a confirmed booking or is refunded, each confirmed booking has one capture of its amount,
    each cancellation was refunded what its policy said, no authorization is left open; nothing owed."""
    provider = StripeProvider(settings)
    try:
        report = await reconcile(conn, provider, 0)  # the run's own provider: its whole ledger is the run's
    finally:
        await provider.close()
    owed = await conn.fetch("SELECT id, refund_state FROM bookings WHERE property_id = $1"
                            " AND refund_state IN ('refund_pending', 'needs_attention')", prop)
    return [f"money: {m.kind} booking {m.booking_id} payment {m.reference}: {m.detail}" for m in report.mismatches] \
        + [f"money owed back: {dict(r)}" for r in owed]


async def history_violations(conn: asyncpg.Connection, history: History, prop: str) -> list[str]:
    """Every acknowledged booking exists exactly once and ended; nothing exists that nobody asked for."""
    acknowledged = {op.ref for op in history.ops if op.kind == "book" and op.outcome == "ok"}
    maybe = sum(1 for op in history.ops if op.kind == "book" and op.outcome == "unknown")
    rows = {str(r["id"]): r["status"] for r in await conn.fetch("SELECT id, status FROM bookings"
                                                                   " WHERE property_id = $1", prop)}
    out = [f"acknowledged booking missing: {b}" for b in sorted(acknowledged - set(rows))]
    extra = set(rows) - acknowledged
    if len(extra) > maybe:
        out.append(f"{len(extra)} bookings nobody was told about, only {maybe} requests had an unknown outcome")
    return out


async def views_converge(database_url: str, mongo_url: str, mongo_db: str, prop: str,
                         bound_s: float) -> tuple[list[str], float]:
    """The MongoDB booking views reach PostgreSQL's state within ``bound_s``; how long it took."""
    began = time.monotonic()
    mongo: AsyncMongoClient = AsyncMongoClient(mongo_url)
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            truth = {str(r["id"]): r["status"] for r in await conn.fetch(
                "SELECT id, status FROM bookings WHERE property_id = $1", prop)}
            views = {d["_id"]: d["status"] async for d in mongo[mongo_db]["booking_views"].find({}, {"status": 1})}
            drift = [b for b, status in truth.items() if views.get(b) != status]
            if not drift or time.monotonic() - began > bound_s:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
        await mongo.close()
    return [f"booking view differs from PostgreSQL: {b}" for b in drift[:20]], time.monotonic() - began


async def check(database_url: str, history: History, prop: str, settings: Settings) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        found: list[Any] = []
        for probe in (capacity_violations, ledger_violations, hold_violations, saga_violations):
            found += await probe(conn, prop)
        found += await money_violations(conn, prop, settings)
        found += await history_violations(conn, history, prop)
        return found
    finally:
        await conn.close()
