"""The public catalogue API: properties, product lists and views, reviews, availability and quotes.

Reads are public (``opt={"public": True}``) and cacheable (``CACHED_READ``: ETag, Cache-Control, 304 on
``If-None-Match``, see app.http_semantics.caching); posting a review needs the ``guest`` role.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import Parameter

from app.catalog import service
from app.catalog.access import GUEST, PUBLIC, principal_of
from app.catalog.domain import PartyRequest, ProductKind
from app.catalog.headers import etag, not_modified, pick_language
from app.catalog.responses import (
    Availability,
    ProductPage,
    ProductView,
    PropertyOut,
    PropertyPage,
    QuoteOut,
    ReviewOut,
    ReviewPage,
)
from app.catalog.schemas import ReviewIn
from app.http_semantics.caching import CACHED_READ
from app.problem_docs import returns
from app.resources import Resources

Page = Annotated[int, Parameter(ge=1, le=10_000, description="1-based page number")]
PerPage = Annotated[int, Parameter(ge=1, le=100, description="items per page")]
Lang = Annotated[str | None, Parameter(query="lang", description="ko or en; beats Accept-Language")]
AcceptLanguage = Annotated[str | None, Parameter(header="Accept-Language")]
IfNoneMatch = Annotated[str | None, Parameter(header="If-None-Match")]
CacheControl = Annotated[str | None, Parameter(header="Cache-Control")]
Guests = Annotated[int, Parameter(ge=1, le=100)]
Units = Annotated[int, Parameter(ge=1, le=50)]
RANGE_RULES = {422: "`end` must be after `start` (`empty_date_range`, `invalid_date_range`), at most 366 nights"
                    " apart (`date_range_too_long`)"}
PRODUCT_404 = {404: ("product_not_found",)}
# A link (app.contract_docs): hold what was quoted.
HOLD_THE_QUOTE = {"product_id": "/product_id", "check_in": "/start", "check_out": "/end", "quantity": "/units",
                  "guests": "/guests", "rate_plan": "/rate_plan"}


def _language(request: Request[Any, Any, Any], lang: str | None, accept_language: str | None) -> str:
    principal = principal_of(request)
    return pick_language(lang, accept_language, getattr(principal, "locale", None))


@get("/properties", opt=PUBLIC | CACHED_READ | {"links": {"property_id": "/items/0/id"}}, tags=["catalogue"],
     summary="The group's resorts (paginated)", responses=returns(PropertyPage))
async def list_properties(resources: Resources, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    rows, total = await service.list_properties(resources, page, per_page)
    return {"items": [dict(r) for r in rows], "page": page, "per_page": per_page, "total": total}


@get("/properties/{property_id:str}", opt=PUBLIC | CACHED_READ | {"problems": {404: ("property_not_found",)}}, tags=["catalogue"],
     summary="One resort (with ETag)", responses=returns(PropertyOut))
async def get_property(property_id: str, resources: Resources) -> Response[dict[str, Any]]:
    row = await service.get_property(resources, property_id)
    return Response(dict(row), headers={"ETag": etag(row["version"])})


@get(
    "/properties/{property_id:str}/products",
    opt=PUBLIC | CACHED_READ | {"problems": {404: ("property_not_found",)}, "links": {"product_id": "/items/0/id"}},
    responses=returns(ProductPage),
    tags=["catalogue"],
    summary="Active products of a resort, optionally of one kind (paginated)",
)
async def property_products(
    request: Request[Any, Any, Any],
    property_id: str,
    resources: Resources,
    kind: ProductKind | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> dict[str, Any]:
    language = _language(request, lang, accept_language)
    return await service.list_products(resources, property_id, kind, page, per_page, language)


@get(
    "/products/{product_id:str}",
    opt=PUBLIC | CACHED_READ | {"problems": PRODUCT_404 | {422: ("invalid_text",), 503: ("details_unavailable",)}},
    responses=returns(ProductView, description="The product (ETag, Content-Language, X-Cache)"),
    tags=["catalogue"],
    summary="A product: core, details, rating, in the caller's language (cached; ETag / If-None-Match)",
)
async def product_view(
    request: Request[Any, Any, Any],
    product_id: str,
    resources: Resources,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
    if_none_match: IfNoneMatch = None,
    cache_control: CacheControl = None,
) -> Response[bytes]:
    language = _language(request, lang, accept_language)
    bypass = "no-cache" in (cache_control or "")
    tag, body, hit = await service.product_view(resources, product_id, language, bypass=bypass)
    headers = {
        "ETag": tag,
        "Vary": "Accept-Language",
        "Content-Language": language,
        "X-Cache": "hit" if hit else "miss",
    }
    if not_modified(if_none_match, tag):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@get("/products/{product_id:str}/reviews", opt=PUBLIC | CACHED_READ | {"problems": PRODUCT_404}, tags=["catalogue"],
     summary="Reviews, newest first", responses=returns(ReviewPage))
async def product_reviews(
    product_id: str, resources: Resources, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    items, total = await service.reviews(resources, product_id, page, per_page)
    return {"items": [_review_body(r) for r in items], "page": page, "per_page": per_page, "total": total}


@post(
    "/products/{product_id:str}/reviews",
    guards=GUEST,
    opt={"problems": PRODUCT_404 | {409: ("review_exists",)}, "rules": {
        422: "`stay_ref` must name your confirmed booking of this product whose stay has ended"
             " (`stay_not_found`, `stay_not_ended`)"}},
    responses=returns(ReviewOut, 201, "The review"),
    tags=["catalogue"],
    summary="Review a stay (one review per stay; a second one is 409)",
)
async def post_review(
    request: Request[Any, Any, Any], product_id: str, data: ReviewIn, resources: Resources
) -> Response[dict[str, Any]]:
    principal = principal_of(request)
    author = (principal.subject, principal.name or "") if principal else ("anonymous", "")
    review = await service.add_review(resources, product_id, data, author)
    return Response(_review_body(review), status_code=201)


def _review_body(review: Any) -> dict[str, Any]:
    return {
        "id": str(review.id),
        "product_id": review.product_id,
        "author_name": review.author_name,
        "stay_ref": review.stay_ref,
        "rating": review.rating,
        "text": review.text,
        "lang": review.lang,
        "created_at": review.created_at.isoformat(),
    }


@get(
    "/products/{product_id:str}/availability",
    opt=PUBLIC | CACHED_READ | {"problems": PRODUCT_404, "rules": RANGE_RULES},
    responses=returns(Availability),
    tags=["catalogue"],
    summary="Free units, price and restrictions of each night of [start, end)",
)
async def product_availability(
    product_id: str, start: dt.date, end: dt.date, resources: Resources, rate_plan: str = "standard"
) -> dict[str, Any]:
    return await service.availability(resources, product_id, start, end, rate_plan)


@get(
    "/products/{product_id:str}/quote",
    opt=PUBLIC | CACHED_READ | {"problems": PRODUCT_404, "rules": RANGE_RULES, "feeds": {"POST /holds": HOLD_THE_QUOTE}},
    responses=returns(QuoteOut),
    tags=["catalogue"],
    summary="Price a stay of [start, end) for a party; lists every restriction it breaks",
)
async def product_quote(
    product_id: str,
    start: dt.date,
    end: dt.date,
    guests: Guests,
    resources: Resources,
    units: Units = 1,
    rate_plan: str = "standard",
) -> dict[str, Any]:
    return await service.quote(resources, product_id, PartyRequest(start, end, guests, units), rate_plan)


ROUTES = [
    list_properties,
    get_property,
    property_products,
    product_view,
    product_reviews,
    post_review,
    product_availability,
    product_quote,
]
