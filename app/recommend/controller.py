"""``GET /products/{id}/related`` and ``GET /recommendations``: public (signed-in guests get personal ones)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Request, Response, get
from litestar.params import Parameter

from app.auth.principal import current_principal
from app.problem_docs import returns
from app.recommend import service
from app.recommend.schemas import Recommendations, Related
from app.resources import Resources
from app.settings import Settings

MAX_ITEMS = next(f.default for f in msgspec.structs.fields(Settings) if f.name == "recommend_max_items")
MAX_NIGHTS = next(f.default for f in msgspec.structs.fields(Settings) if f.name == "recommend_max_nights")
CacheControl = Annotated[str | None, Parameter(header="Cache-Control",
                                               description="`no-cache`: rank again (the answer is cached anew)")]
Limit = Annotated[int, Parameter(ge=1, le=MAX_ITEMS,
                                 description=f"at most RESORT_RECOMMEND_MAX_ITEMS (default {MAX_ITEMS})")]


def _bypass(cache_control: str | None) -> bool:
    return "no-cache" in (cache_control or "")


def _answer(body: dict, hit: bool) -> Response[dict]:  # type: ignore[type-arg]
    return Response(body, headers={"X-Cache": "hit" if hit else "miss", "Cache-Control": "private, no-store"})


@get("/products/{product_id:str}/related", opt={"public": True, "problems": {404: ("product_not_found",)}},
     tags=["recommendations"], summary="Guests who booked this also booked (else similar products of the resort)",
     responses=returns(Related, description="Related products, each with its reason (X-Cache)"))
async def related_products(product_id: str, resources: Resources, limit: Limit = 10,
                           cache_control: CacheControl = None) -> Response[dict]:  # type: ignore[type-arg]
    body, hit = await service.related(resources, product_id, limit, _bypass(cache_control))
    return _answer(body, hit)


@get("/recommendations", opt={"public": True, "problems": {404: ("property_not_found",)},
                              "rules": {422: f"`check_out` after `check_in` (`invalid_date_range`), at most "
                                             f"{MAX_NIGHTS} nights (`date_range_too_long`)"}},
     tags=["recommendations"], summary="Suggestions for a stay: available products only, each with its reason",
     responses=returns(Recommendations, description="Suggestions (X-Cache); personal when signed in"))
async def recommendations(
    request: Request,  # type: ignore[type-arg]
    resources: Resources,
    property: Annotated[str, Parameter(description="The resort's id", max_length=64)],
    check_in: dt.date,
    check_out: dt.date,
    limit: Limit = 10,
    cache_control: CacheControl = None,
) -> Response[dict]:  # type: ignore[type-arg]
    principal = current_principal(request)
    subject = principal.actor if principal is not None else None
    body, hit = await service.recommendations(resources, subject, property, check_in, check_out, limit,
                                              _bypass(cache_control))
    return _answer(body, hit)
