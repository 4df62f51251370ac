"""The security-headers middleware and the index's link list, on a bare Litestar app (no servers)."""

from __future__ import annotations

from litestar import Litestar, MediaType, Response, get
from litestar.testing import TestClient

from app.index import Link, publish_links
from app.security_headers import SecurityHeadersMiddleware, content_security_policy
from app.settings import Settings


@get("/page", media_type=MediaType.HTML, sync_to_thread=False)
def page() -> str:
    return "<!DOCTYPE html><p>a page added later"


@get("/own-policy", sync_to_thread=False)
def own_policy() -> Response[str]:
    return Response("<p>", media_type=MediaType.HTML, headers={"Content-Security-Policy": "default-src 'self'"})


@get("/data", sync_to_thread=False)
def data() -> dict[str, int]:
    return {"n": 1}


def wrapped(public_url: str = "http://127.0.0.1:8000") -> Litestar:
    links = publish_links([Link("/page", "Page"), Link("/later", "Later")])
    app = Litestar([page, own_policy, data], on_startup=[links])
    app.asgi_handler = SecurityHeadersMiddleware(app.asgi_handler, Settings.from_env({}, public_url=public_url))
    return app


def test_any_html_page_gets_the_policy_and_json_gets_nosniff() -> None:
    with TestClient(wrapped()) as client:
        html = client.get("/page")
        assert html.headers["content-security-policy"] == content_security_policy("http://127.0.0.1:8000")
        assert html.headers["x-frame-options"] == "DENY" and html.headers["referrer-policy"] == "no-referrer"
        assert html.headers["x-content-type-options"] == "nosniff"
        json = client.get("/data")
        assert json.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in json.headers
        assert client.get("/own-policy").headers["content-security-policy"] == "default-src 'self'"


def test_the_policy_allows_the_websocket_of_the_public_origin_only() -> None:
    policy = content_security_policy("https://resort.example")
    assert "connect-src 'self' wss://resort.example;" in policy
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe" not in policy


def test_index_keeps_only_links_the_app_routes() -> None:
    app = wrapped()
    with TestClient(app):
        assert [link.href for link in app.state.index_links] == ["/page"]
