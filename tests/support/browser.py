"""Pytest plugin (loaded by tests/conftest.py): a real Chromium page against the api served over HTTP.

Debian's ``/usr/bin/chromium`` (installed by ``scripts/setup.sh``) driven by Playwright. The api runs in a
uvicorn subprocess on a free port with the tests' databases (``served_api``); every request the page makes
to another origin is blocked and recorded, so a test can assert the page needs nothing from outside::

    async def test_my_page(browser_page):
        view = await browser_page("/app/guest")          # navigated, 'load' fired
        await expect(view.page.locator("h1")).to_have_text("...")
        assert view.foreign == [] and view.console_errors == []
        await assert_page_headers(view)                  # CSP & co. on every HTML response
        await view.screenshot("guest")                   # .data/screenshots/guest.png (git-ignored)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Request, Response, Route, async_playwright, expect

from app.settings import PROJECT_ROOT, Settings
from tests.support.auth import serve_api, subprocess_environment
from tests.support.servers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = PROJECT_ROOT / ".data" / "screenshots"
PAGE_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class BrowserPage:
    """An open page and what it did: requests to other origins, HTML responses, console and page errors."""

    page: Page
    origin: str
    foreign: list[str] = field(default_factory=list)
    html_responses: list[Response] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    async def route(self, route: Route, request: Request) -> None:
        if origin_of(request.url) == self.origin:
            await route.continue_()
        else:
            self.foreign.append(request.url)
            await route.abort("blockedbyclient")

    def on_response(self, response: Response) -> None:
        if response.headers.get("content-type", "").startswith("text/html"):
            self.html_responses.append(response)

    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


def csp_foreign_sources(policy: str, origin: str) -> list[str]:
    """Sources of a Content-Security-Policy that name anything but ``origin`` (its ws/wss twin included)."""
    host = urlsplit(origin).netloc
    allowed_hosts = {f"{scheme}://{host}" for scheme in ("http", "https", "ws", "wss")}
    foreign = []
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        for source in directive.split()[1:]:
            if source.startswith("'") or source == "data:" or source in allowed_hosts:
                continue
            foreign.append(f"{directive.split()[0]} {source}")
    return foreign


def assert_headers(headers: dict[str, str], origin: str, where: str) -> None:
    """The security headers of an HTML page (names lower-case), and a CSP naming no other origin."""
    missing = [name for name in PAGE_HEADERS if name not in headers]
    assert not missing, f"{where}: missing {missing}"
    policy = headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] in ("no-referrer", "same-origin", "strict-origin"), where
    assert "frame-ancestors 'none'" in policy, where
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
    for directive in ("script-src 'self'", "style-src 'self'", "connect-src 'self'"):
        assert directive in policy, f"{where}: no {directive!r} in {policy!r}"
    assert csp_foreign_sources(policy, origin) == [], f"{where}: {policy!r}"


async def assert_page_headers(view: BrowserPage) -> None:
    """Every HTML response the page received carries the headers (at least the page itself)."""
    assert view.html_responses, "the page received no HTML response"
    for response in view.html_responses:
        assert_headers(await response.all_headers(), view.origin, response.url)


@pytest.fixture(scope="session")
def served_api(settings: Settings, stack: object) -> Iterator[str]:
    """The api in a uvicorn subprocess on a free port, with the tests' databases; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**subprocess_environment(settings), "RESORT_API_PORT": str(port), "RESORT_PUBLIC_URL": url}
    with serve_api(env, port) as base_url:
        yield base_url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/setup.sh` (installs Debian's chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


# The bound of every browser wait: Chromium loading Swagger UI's bundle on a 2-core machine shared with the
# whole stack takes seconds; a wait still ends as soon as its condition holds.
BOUND_MS = 45_000
expect.set_options(timeout=BOUND_MS)


@pytest.fixture
async def browser_page(browser: Browser, served_api: str) -> AsyncIterator[Callable[[str], Awaitable[BrowserPage]]]:
    """Factory: ``await browser_page("/path")`` -> a :class:`BrowserPage` in a fresh context, loaded."""
    contexts = []

    async def open_page(path: str) -> BrowserPage:
        context = await browser.new_context(base_url=served_api, service_workers="block")
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(BOUND_MS)
        view = BrowserPage(page, origin_of(served_api))
        await page.route("**/*", view.route)
        page.on("response", view.on_response)
        page.on("console", lambda message: view.console_errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error: view.page_errors.append(str(error)))
        await page.goto(path)
        return view

    yield open_page
    for context in contexts:
        await context.close()
