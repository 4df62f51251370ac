"""The docs render in a real Chromium with every other origin blocked, under the pages' security headers."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.support.browser import BOUND_MS, assert_page_headers

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def documented_operations(base_url: str) -> tuple[set[tuple[str, str]], int]:
    """(method, path) of every operation, and how many blocks Swagger UI shows (one per tag)."""
    document = httpx.get(f"{base_url}/docs/openapi.json", timeout=10).json()
    operations = {(method.upper(), path): len(operation.get("tags") or ["default"])
                  for path, item in document["paths"].items() for method, operation in item.items()
                  if method in _METHODS}
    return set(operations), sum(operations.values())


@pytest.mark.parametrize("path", ["/docs", "/docs/swagger"])
async def test_docs_render_every_operation_offline(browser_page, served_api: str, path: str) -> None:
    expected, blocks = documented_operations(served_api)
    assert len(expected) > 10
    view = await browser_page(path)
    operations = view.page.locator(".opblock .opblock-summary")
    await expect(operations).to_have_count(blocks, timeout=BOUND_MS)
    shown = set()
    for summary in await operations.all():
        method = (await summary.locator(".opblock-summary-method").inner_text()).strip()
        shown.add((method, await summary.locator(".opblock-summary-path").get_attribute("data-path")))
    assert shown == expected
    await view.screenshot(f"docs{path.replace('/', '-')}")
    assert view.foreign == [], "the page asked another origin"
    assert view.page_errors == []
    assert view.console_errors == [], "a script failed or the Content-Security-Policy refused something"
    await assert_page_headers(view)


async def test_index_page_links_the_docs(browser_page, served_api: str) -> None:
    view = await browser_page("/")
    await expect(view.page.get_by_role("heading", name="G Resort API")).to_be_visible()
    await view.screenshot("index")
    await view.page.get_by_role("link", name="API docs").click()
    await expect(view.page.locator(".opblock").first).to_be_visible(timeout=BOUND_MS)
    assert view.page.url == f"{served_api}/docs"
    assert view.foreign == [] and view.page_errors == [] and view.console_errors == []
    await view.screenshot("index-to-docs")
    await assert_page_headers(view)


async def test_try_it_out_calls_the_api_under_the_policy(browser_page) -> None:
    view = await browser_page("/docs")
    operation = view.page.locator(".opblock").filter(has=view.page.locator('[data-path="/health/live"]'))
    await operation.locator(".opblock-summary").click()
    await operation.get_by_role("button", name="Try it out").click()
    await operation.get_by_role("button", name="Execute").click()
    await expect(operation.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    assert view.foreign == [] and view.page_errors == [] and view.console_errors == []
