"""PostgreSQL for the night audit: its per-(property, day) row, the day's arrivals that never came, what a
no-show keeps by policy, the no-show's settlement row, and the counts of the day's report."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import msgspec

from app.frontdesk.audit_report import AuditReport, DayCounts, HoldPolicy

STAYED = ["confirmed", "checked_in", "checked_out"]


async def begin(conn: asyncpg.Connection, property_id: str, day: dt.date) -> str:
    """The day's audit row (created 'running', or one more run of it); its state."""
    return await conn.fetchval(
        "INSERT INTO night_audits (property_id, business_date) VALUES ($1, $2) ON CONFLICT (property_id, business_date)"
        " DO UPDATE SET runs = night_audits.runs + (night_audits.state = 'running')::int RETURNING state",
        property_id, day)


async def finish(conn: asyncpg.Connection, report: AuditReport) -> None:
    await conn.execute(
        "UPDATE night_audits SET state = $3, report = $4::jsonb, finished_at = CASE WHEN $3 = 'done' THEN now() END"
        " WHERE property_id = $1 AND business_date = $2 AND state = 'running'",
        report.property_id, report.business_date, report.state, msgspec.json.encode(report).decode())


async def report(db: Any, property_id: str, day: dt.date | None) -> AuditReport | None:
    """The stored report of ``day`` (None: the latest done one)."""
    if day is None:
        raw = await db.fetchval("SELECT report::text FROM night_audits WHERE property_id = $1 AND state = 'done'"
                                " ORDER BY business_date DESC LIMIT 1", property_id)
    else:
        raw = await db.fetchval("SELECT report::text FROM night_audits WHERE property_id = $1 AND business_date = $2",
                                property_id, day)
    return msgspec.json.decode(raw, type=AuditReport) if raw else None


async def expected_arrivals(db: Any, property_id: str, day: dt.date) -> list[uuid.UUID]:
    """The day's arrivals still only confirmed: they never came."""
    return [r["id"] for r in await db.fetch(
        "SELECT id FROM bookings WHERE property_id = $1 AND check_in = $2 AND status = 'confirmed' ORDER BY id",
        property_id, day)]


async def unsettled_no_shows(db: Any, property_id: str, day: dt.date) -> list[asyncpg.Record]:
    """The day's no-shows whose fee is not settled with the provider yet."""
    return await db.fetch(
        "SELECT b.id, b.payment_ref, b.total_amount, b.currency, b.refund_amount, b.cancel_fee FROM bookings b"
        " WHERE b.property_id = $1 AND b.check_in = $2 AND b.status = 'no_show' AND b.cancel_fee IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = b.id AND p.operation = 'no_show'"
        " AND p.status = 'approved') ORDER BY b.id", property_id, day)


async def hold_policies(conn: asyncpg.Connection, booking_id: uuid.UUID,
                        taken: dict[uuid.UUID, int]) -> list[HoldPolicy]:
    """Each hold's share still booked (``taken``: the shares of its rooms cancelled on their own, settled by
    their own refunds) with what its rate plan says of a no-show."""
    rows = await conn.fetch(
        "SELECT h.id, h.total_amount, rp.refundable, rp.no_show_fee_pct FROM booking_holds bh"
        " JOIN holds h ON h.id = bh.hold_id JOIN rate_plans rp ON rp.product_id = h.product_id"
        " AND rp.code = h.rate_plan WHERE bh.booking_id = $1", booking_id)
    return [HoldPolicy(r["total_amount"] - taken.get(r["id"], 0), r["refundable"], r["no_show_fee_pct"])
            for r in rows]


async def keep_fee(conn: asyncpg.Connection, booking_id: uuid.UUID, fee: int, refund: int) -> None:
    """What the no-show keeps and gives back, fixed when it is marked (the settlement reads it)."""
    await conn.execute("UPDATE bookings SET cancel_fee = $2, refund_amount = $3 WHERE id = $1", booking_id, fee, refund)


async def settled(conn: asyncpg.Connection, booking: asyncpg.Record, status: str, reference: str | None,
                  detail: str | None) -> None:
    """The no-show's settlement as the provider answered it (a failed one is replaced by a later try)."""
    await conn.execute(
        "INSERT INTO payments (booking_id, operation, status, amount, currency, provider_ref, detail)"
        " VALUES ($1, 'no_show', $2, $3, $4, $5, $6) ON CONFLICT (booking_id, operation) WHERE slot IS NULL DO UPDATE SET"
        " status = EXCLUDED.status, provider_ref = EXCLUDED.provider_ref, detail = EXCLUDED.detail,"
        " attempts = payments.attempts + 1, updated_at = now() WHERE payments.status = 'failed'",
        booking["id"], status, booking["cancel_fee"], booking["currency"], reference, detail)


async def audit_log(conn: asyncpg.Connection, actor: str, action: str, detail: dict[str, Any]) -> None:
    await conn.execute("INSERT INTO audit_log (actor, action, outcome, detail) VALUES ($1, $2, 'ok', $3::jsonb)",
                       actor, action, json.dumps(detail, default=str))


_SOLD = (
    "SELECT coalesce(sum(l.units), 0)::int AS sold, coalesce(round(sum(h.total_amount::numeric * l.units"
    " / (h.quantity * (h.check_out - h.check_in)))), 0)::bigint AS revenue, min(h.currency) AS currency"
    " FROM hold_lines l JOIN holds h ON h.id = l.hold_id JOIN booking_holds bh ON bh.hold_id = h.id"
    " JOIN bookings b ON b.id = bh.booking_id JOIN products p ON p.id = l.product_id AND p.kind = 'room_type'"
    " WHERE b.property_id = $1 AND l.night = $2 AND b.status = ANY($3::text[])"
)
_AVAILABLE = (
    "SELECT (SELECT count(*) FROM rooms WHERE property_id = $1) - (SELECT count(DISTINCT a.room_id)"
    " FROM room_assignments a JOIN rooms r ON r.id = a.room_id WHERE r.property_id = $1"
    " AND a.kind = 'out_of_service' AND a.stay @> $2::date)"
)
_ARRIVALS = (
    "SELECT count(*) FILTER (WHERE status = 'no_show')::int AS no_shows,"
    " coalesce(sum(cancel_fee) FILTER (WHERE status = 'no_show'), 0)::bigint AS fees,"
    " count(*) FILTER (WHERE status IN ('cancelling', 'cancelled'))::int AS cancellations"
    " FROM bookings WHERE property_id = $1 AND check_in = $2"
)
_ROLLED = ("SELECT count(*)::int FROM bookings WHERE property_id = $1 AND status = 'checked_in'"
           " AND check_in <= $2 AND check_out > $2")


async def day_counts(db: Any, property_id: str, day: dt.date) -> DayCounts:
    """The counts of the day's report: rooms sold of its night and their revenue (each hold's price spread
    evenly over its units and nights), rooms available, the day's no-shows and cancelled arrivals, and the
    guests in the house who roll over to the next business day."""
    sold = await db.fetchrow(_SOLD, property_id, day, STAYED)
    arrivals = await db.fetchrow(_ARRIVALS, property_id, day)
    return DayCounts(rooms_available=await db.fetchval(_AVAILABLE, property_id, day), rooms_sold=sold["sold"],
                     room_revenue=sold["revenue"], no_shows=arrivals["no_shows"], no_show_fees=arrivals["fees"],
                     cancellations=arrivals["cancellations"], stays_rolled=await db.fetchval(_ROLLED, property_id, day),
                     currency=sold["currency"].strip() if sold["currency"] else None)


async def properties(db: Any) -> list[asyncpg.Record]:
    return await db.fetch("SELECT id, time_zone FROM properties ORDER BY id")
