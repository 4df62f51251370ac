"""The use cases: ``related`` products and ``recommendations`` for a stay.

Rankings come from the activity rollups and are cached (``cache``); availability and the ``left`` label
are read live on every call, so a sold-out product is never suggested and "N left" is always the real count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.errors import NotFound, ValidationFailed
from app.recommend import domain, repository, signals
from app.recommend.cache import cached
from app.resources import Resources

PAIR_FANOUT = 200


def _db(resources: Resources) -> Any:
    return resources.mongo[resources.settings.mongo_db]


def check_stay(check_in: dt.date, check_out: dt.date, max_nights: int) -> list[str]:
    """The nights of the stay, or a 422 with a stable code."""
    if check_out <= check_in:
        raise ValidationFailed("check_out must be after check_in.", code="invalid_date_range")
    if (check_out - check_in).days > max_nights:
        raise ValidationFailed(f"A stay is at most {max_nights} nights here.", code="date_range_too_long")
    return [(check_in + dt.timedelta(days=i)).isoformat() for i in range((check_out - check_in).days)]


async def _ranking(resources: Resources, subject: str | None, property_id: str, nights: list[str],
                   candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    db = _db(resources)
    found = domain.Signals(demand=await signals.demand_for(db, property_id, nights))
    if subject is not None:
        booked, viewed = await signals.booked_by(db, subject), await signals.viewed_by(db, subject)
        found.co_booked = dict(await signals.pairs_of(db, booked + viewed, PAIR_FANOUT))
        kinds = {p["id"]: p["kind"] for p in await repository.active_products(resources.db, booked + viewed)}
        found.stayed_kinds = {kinds[p] for p in booked if p in kinds}
        found.viewed_kinds = {kinds[p] for p in viewed if p in kinds}
    ranked = domain.rank([domain.Candidate(c["id"], c["kind"], c["name"]) for c in candidates], found,
                         resources.settings.recommend_max_items)
    weekly = await signals.booked_this_week(db, [r.id for r in ranked], dt.datetime.now(dt.UTC).date())
    return [{"product_id": r.id, "name": r.name, "kind": r.kind, "reason": r.reasons[0], "reasons": r.reasons,
             "score": r.score, "week": weekly.get(r.id)} for r in ranked]


async def recommendations(resources: Resources, subject: str | None, property_id: str, check_in: dt.date,
                          check_out: dt.date, limit: int, bypass: bool = False) -> tuple[dict[str, Any], bool]:
    settings = resources.settings
    nights = check_stay(check_in, check_out, settings.recommend_max_nights)
    if not await repository.property_exists(resources.db, property_id):
        raise NotFound("No such resort.", code="property_not_found")
    live = {p["id"]: p for p in await repository.available(resources.db, property_id, check_in, check_out)}

    async def compute() -> list[dict[str, Any]]:
        return await _ranking(resources, subject, property_id, nights, list(live.values()))

    key = f"stay:{check_in}:{check_out}:{subject or 'anon'}"
    ranking, hit = await cached(resources.redis, property_id, key, settings.recommend_cache_ttl_s, compute, bypass)
    items = [_item(r, live[r["product_id"]]["free"], settings.recommend_scarcity_threshold)
             for r in ranking if r["product_id"] in live][:limit]
    return {"property_id": property_id, "check_in": check_in.isoformat(), "check_out": check_out.isoformat(),
            "personal": subject is not None, "items": items}, hit


def _item(ranked: dict[str, Any], free: int | None, threshold: int) -> dict[str, Any]:
    labels = {"left": domain.left_label(free, threshold), "booked_this_week": ranked.get("week")}
    return {k: v for k, v in ranked.items() if k != "week"} | {"labels": labels}


async def related(resources: Resources, product_id: str, limit: int, bypass: bool = False) -> tuple[dict[str, Any], bool]:
    settings = resources.settings
    product = await repository.product(resources.db, product_id)
    if product is None or not product["active"]:
        raise NotFound("No such product.", code="product_not_found")

    async def compute() -> list[dict[str, Any]]:
        db = _db(resources)
        pairs = await signals.pairs_of(db, [product_id], PAIR_FANOUT)
        active = {p["id"]: domain.Candidate(p["id"], p["kind"], p["name"])
                  for p in await repository.active_products(resources.db, [p for p, _ in pairs])}
        near = [domain.Candidate(p["id"], p["kind"], p["name"]) for p in await repository.same_property(
            resources.db, product["property_id"], product_id, product["kind"], settings.recommend_max_items)]
        ranked = domain.related(product_id, pairs, near, active, settings.recommend_max_items)
        weekly = await signals.booked_this_week(db, [r.id for r in ranked], dt.datetime.now(dt.UTC).date())
        return [{"product_id": r.id, "name": r.name, "kind": r.kind, "reason": r.reasons[0], "reasons": r.reasons,
                 "score": r.score, "labels": {"left": None, "booked_this_week": weekly.get(r.id)}} for r in ranked]

    items, hit = await cached(resources.redis, product["property_id"], f"related:{product_id}",
                              settings.recommend_cache_ttl_s, compute, bypass)
    return {"product_id": product_id, "items": items[:limit]}, hit
