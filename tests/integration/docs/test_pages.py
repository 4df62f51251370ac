"""Every HTML page of the app carries the security headers; the index at ``/``; the docs' own assets."""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.support.browser import assert_headers

ORIGIN = "http://127.0.0.1:8000"  # the test client's base URL and the test settings' public URL


def parameterless_get_paths(app: Litestar) -> list[str]:
    return sorted(route.path for route in app.routes
                  if isinstance(route, HTTPRoute) and "{" not in route.path and "GET" in route.methods)


async def test_every_html_page_carries_the_security_headers(app: Litestar, client) -> None:
    pages = []
    for path in [*parameterless_get_paths(app), "/docs/no-such-page"]:
        response = await client.get(path, follow_redirects=False)
        assert response.headers["x-content-type-options"] == "nosniff", path
        if response.headers.get("content-type", "").startswith("text/html"):
            assert_headers({k.lower(): v for k, v in response.headers.items()}, ORIGIN, path)
            pages.append(path)
    assert {"/", "/docs", "/docs/swagger", "/docs/no-such-page"} <= set(pages)


async def test_api_responses_and_errors_keep_nosniff(client) -> None:
    for path in ("/health/live", "/no/such/route", "/auth/me", "/docs/openapi.json"):
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert not response.headers.get("content-type", "").startswith("text/html"), path


async def test_docs_pages_name_no_other_origin(client) -> None:
    for path in ("/docs", "/docs/swagger"):
        page = (await client.get(path)).text
        assert "http" not in page and "@latest" not in page and "<style" not in page, path
        assert "<script>" not in page and "<script " in page, path  # scripts only by src
        for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-init.js",
                      "/docs/assets/swagger-ui.css"):
            assert asset in page, (path, asset)


async def test_docs_assets_are_served_from_the_app(client) -> None:
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    style = await client.get("/docs/assets/swagger-ui.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    missing = await client.get("/docs/assets/index.html")  # the vendor folder's demo page is not served
    assert missing.status_code == 404 and missing.json()["code"] == "asset_not_found"


async def test_old_swagger_address_redirects(client) -> None:
    response = await client.get("/swagger", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/docs/swagger"


async def test_index_page_links_what_exists(client) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    index = (await client.get("/", headers={"Accept": "application/json"})).json()
    hrefs = [link["href"] for link in index["links"]]
    assert {"/docs", "/docs/openapi.json", "/health/ready"} <= set(hrefs)
    for href in hrefs:
        assert f'href="{href}"' in page.text
        assert (await client.get(href)).status_code == 200, href
