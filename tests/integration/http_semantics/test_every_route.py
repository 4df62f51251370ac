"""HTTP semantics on the real app: HEAD on every GET route of every feature, validators on catalogue reads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

# Headers that may differ between two calls of the same read (a clock, an id, a fresh login state, a
# cache that just got filled, a body that changed: the metrics).
VOLATILE = {"date", "x-request-id", "set-cookie", "location", "x-cache", "content-length", "etag"}
SAMPLE = {int: "1", dt.date: "2027-01-10", uuid.UUID: "7d1f6c1e-0d7a-4b7e-9a51-1c2d3e4f5a6b"}


def _get_paths(app: Litestar) -> list[str]:
    """Every GET route of the app (documented or not), its path parameters filled with a sample."""
    paths = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and "GET" in route.methods:
            path = route.path_format
            for param in route.path_parameters.values():
                path = path.replace(f"{{{param.name}}}", SAMPLE.get(param.type, "sample"))
            paths.append(path)
    return sorted(paths)


async def test_every_get_route_answers_head_with_its_headers_and_no_body(app: Litestar,
                                                                         client: AsyncTestClient) -> None:
    paths = _get_paths(app)
    assert len(paths) > 40 and "/" in paths and "/health/ready" in paths and "/docs" in paths
    different = {}
    for path in paths:
        got = await client.get(path, follow_redirects=False)
        head = await client.head(path, follow_redirects=False)
        same = {k: v for k, v in got.headers.items() if k not in VOLATILE}
        if (head.status_code, head.content) != (got.status_code, b"") or same != {
                k: v for k, v in head.headers.items() if k not in VOLATILE} or head.status_code == 405:
            different[path] = (got.status_code, head.status_code, head.content[:80])
    assert different == {}


@pytest.fixture
async def resort_id(catalog_factory: Any) -> str:
    return str((await catalog_factory.property())["id"])


async def test_a_catalogue_read_is_revalidated_with_its_etag(client: AsyncTestClient, resort_id: str) -> None:
    first = await client.get(f"/properties/{resort_id}")
    assert first.status_code == 200 and first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = await client.get(f"/properties/{resort_id}", headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


async def test_catalogue_lists_get_a_body_digest_and_vary_on_what_they_read(client: AsyncTestClient,
                                                                            resort_id: str) -> None:
    answer = await client.get(f"/properties/{resort_id}/products", headers={"Accept-Language": "en"})
    assert answer.status_code == 200 and answer.headers["etag"].startswith('"b-')
    assert answer.headers["vary"] == "Accept-Language, Authorization, Cookie"
    unchanged = await client.get(f"/properties/{resort_id}/products",
                                 headers={"Accept-Language": "en", "If-None-Match": answer.headers["etag"]})
    assert unchanged.status_code == 304


async def test_a_signed_in_read_is_private(client: AsyncTestClient, guest_headers: dict[str, str],
                                           resort_id: str) -> None:
    answer = await client.get(f"/properties/{resort_id}", headers=guest_headers)
    assert answer.headers["cache-control"].startswith("private, max-age=")


async def test_a_callers_own_read_is_never_stored_by_a_shared_cache(client: AsyncTestClient,
                                                                    guest_headers: dict[str, str]) -> None:
    answer = await client.get("/auth/me", headers=guest_headers)
    assert (answer.status_code, answer.headers["cache-control"]) == (200, "private, no-store")


async def test_a_handlers_own_freshness_is_kept_for_a_signed_in_caller(client: AsyncTestClient,
                                                                       guest_headers: dict[str, str]) -> None:
    answer = await client.get("/.well-known/jwks.json", headers=guest_headers)
    assert answer.headers["cache-control"] == "public, max-age=300"
