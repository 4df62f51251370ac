"""Cancellation policy as a pure function: how much of a hold's price comes back, by its rate plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class RatePolicy:
    refundable: bool
    free_cancel_hours: int = 72
    late_cancel_fee_pct: int = 50


@dataclass(frozen=True, slots=True)
class Refund:
    amount: int
    fee: int
    rule: str  # free, late, non_refundable


def refund_for(total: int, policy: RatePolicy, check_in: dt.date, time_zone: str, now: dt.datetime) -> Refund:
    """Free until ``free_cancel_hours`` before the check-in date begins at the resort, then a fee."""
    if not policy.refundable:
        return Refund(0, total, "non_refundable")
    arrival = dt.datetime.combine(check_in, dt.time(0), ZoneInfo(time_zone))
    if now < arrival - dt.timedelta(hours=policy.free_cancel_hours):
        return Refund(total, 0, "free")
    fee = total * policy.late_cancel_fee_pct // 100
    return Refund(total - fee, fee, "late")


def combine(refunds: list[Refund]) -> Refund:
    rules = {r.rule for r in refunds}
    rule = rules.pop() if len(rules) == 1 else "mixed"
    return Refund(sum(r.amount for r in refunds), sum(r.fee for r in refunds), rule)
