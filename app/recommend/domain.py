"""Ranking recommendations and their reasons (pure).

Reasons, strongest first: ``co_booked`` (booked by guests who booked what you booked or viewed),
``matches_your_stays`` (the kind of product you stayed in), ``similar_to_viewed`` (the kind you viewed),
``popular_for_dates`` (held or booked for these nights), ``available`` (nothing more to say: it is free).
Labels are real counts only: ``left`` from live inventory (shown at or below the threshold) and
``booked_this_week`` from the rollups; never invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WEIGHTS = {"co_booked": 1000, "matches_your_stays": 100, "similar_to_viewed": 50, "popular_for_dates": 1}
REASONS = ("co_booked", "matches_your_stays", "similar_to_viewed", "popular_for_dates", "available")


@dataclass(slots=True)
class Candidate:
    id: str
    kind: str
    name: str


@dataclass(slots=True)
class Signals:
    """What is known of the guest and the dates."""

    co_booked: dict[str, int] = field(default_factory=dict)  # product -> guests who booked both
    stayed_kinds: set[str] = field(default_factory=set)
    viewed_kinds: set[str] = field(default_factory=set)
    demand: dict[str, int] = field(default_factory=dict)  # product -> holds + bookings for these nights


@dataclass(slots=True)
class Ranked:
    id: str
    kind: str
    name: str
    score: int
    reasons: list[str]


def rank(candidates: list[Candidate], signals: Signals, limit: int) -> list[Ranked]:
    """Candidates by score (then name, id), each with its reasons (strongest first)."""
    ranked = []
    for c in candidates:
        found = {
            "co_booked": signals.co_booked.get(c.id, 0),
            "matches_your_stays": int(c.kind in signals.stayed_kinds),
            "similar_to_viewed": int(c.kind in signals.viewed_kinds),
            "popular_for_dates": signals.demand.get(c.id, 0),
        }
        reasons = [r for r in REASONS[:-1] if found[r]] or ["available"]
        score = sum(WEIGHTS[r] * n for r, n in found.items())
        ranked.append(Ranked(c.id, c.kind, c.name, score, reasons))
    ranked.sort(key=lambda r: (-r.score, r.name, r.id))
    return ranked[:limit]


def related(product_id: str, pairs: list[tuple[str, int]], same_property: list[Candidate],
            active: dict[str, Candidate], limit: int) -> list[Ranked]:
    """Co-booked products first (by how many guests), then same-resort products of the same kind first."""
    out: list[Ranked] = []
    seen = {product_id}
    for other, count in pairs:
        if other in seen or other not in active or count <= 0:
            continue
        seen.add(other)
        c = active[other]
        out.append(Ranked(c.id, c.kind, c.name, count, ["co_booked"]))
    for c in same_property:
        if len(out) >= limit:
            break
        if c.id not in seen:
            seen.add(c.id)
            out.append(Ranked(c.id, c.kind, c.name, 0, ["same_property"]))
    return out[:limit]


def left_label(free: int | None, threshold: int) -> int | None:
    """``left`` only when it is the live count and scarce enough to matter."""
    return free if free is not None and 0 < free <= threshold else None
