"""HEAD, validators, freshness, Vary and CORS on a small app built like the api (no server needed)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Litestar, Response, get, post
from litestar.params import Parameter
from litestar.testing import TestClient

from app.http_semantics.caching import CACHED_READ, read_caching
from app.http_semantics.head import http_semantics
from app.main import cors_config
from app.problem_docs import document_api
from app.settings import Settings

SETTINGS = Settings(http_cache_max_age_s=30, http_cache_max_body_bytes=1000,
                    cors_origins=["https://partner.example"])


@get("/resorts", opt=CACHED_READ, sync_to_thread=False)
def resorts(accept_language: Annotated[str | None, Parameter(header="Accept-Language")] = None) -> dict[str, Any]:
    return {"items": ["jeju"], "lang": accept_language or "ko"}


@get("/versioned", opt=CACHED_READ, sync_to_thread=False)
def versioned() -> Response[dict[str, str]]:
    return Response({"v": "3"}, headers={"ETag": '"v3"'})


@get("/big", opt=CACHED_READ, sync_to_thread=False)
def big() -> dict[str, str]:
    return {"text": "x" * 5000}


@get("/missing", opt=CACHED_READ, sync_to_thread=False)
def missing() -> Response[dict[str, str]]:
    return Response({"code": "not_found"}, status_code=404)


@get("/me", sync_to_thread=False)
def me() -> dict[str, str]:
    return {"name": "guest"}


@post("/holds", sync_to_thread=False)
def hold(data: dict[str, Any]) -> dict[str, Any]:
    return data


def _client() -> TestClient[Litestar]:
    app = Litestar([resorts, versioned, big, missing, me, hold], middleware=[read_caching(SETTINGS)],
                   cors_config=cors_config(SETTINGS), on_startup=[document_api])
    app.asgi_handler = http_semantics(app.asgi_handler)
    return TestClient(app)


def test_head_answers_the_get_headers_without_a_body() -> None:
    with _client() as client:
        got, head = client.get("/me"), client.head("/me")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == got.headers["content-type"]


def test_allow_lists_head_wherever_it_lists_get() -> None:
    with _client() as client:
        assert client.options("/me").headers["allow"] == "GET, HEAD, OPTIONS"
        refused = client.put("/me")
    assert refused.status_code == 405 and "HEAD" in refused.headers["allow"]


def test_a_cacheable_read_has_a_validator_freshness_and_vary() -> None:
    with _client() as client:
        answer = client.get("/resorts", headers={"Accept-Language": "en"})
        signed_in = client.get("/resorts", headers={"Authorization": "Bearer x"})
    assert answer.headers["etag"].startswith('"b-')
    assert answer.headers["cache-control"] == "public, max-age=30"
    assert answer.headers["vary"] == "Accept-Language, Authorization, Cookie"
    assert signed_in.headers["cache-control"] == "private, max-age=30"
    assert signed_in.headers["etag"] != answer.headers["etag"]  # another body (the language)


def test_if_none_match_with_the_current_tag_is_304_without_a_body() -> None:
    with _client() as client:
        tag = client.get("/resorts").headers["etag"]
        again = client.get("/resorts", headers={"If-None-Match": f'W/"old", {tag}'})
        changed = client.get("/resorts", headers={"If-None-Match": '"b-old"'})
        head = client.head("/resorts", headers={"If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert again.headers["cache-control"] == "public, max-age=30"
    assert changed.status_code == 200 and changed.json()["items"] == ["jeju"]
    assert head.status_code == 304


def test_a_handlers_own_etag_is_kept_and_compared() -> None:
    with _client() as client:
        first = client.get("/versioned")
        second = client.get("/versioned", headers={"If-None-Match": '"v3"'})
    assert first.headers["etag"] == '"v3"' and second.status_code == 304


def test_errors_and_oversized_answers_are_not_given_validators() -> None:
    with _client() as client:
        missing_answer, big_answer = client.get("/missing"), client.get("/big")
    assert missing_answer.status_code == 404 and "etag" not in missing_answer.headers
    assert "cache-control" not in missing_answer.headers
    assert big_answer.status_code == 200 and len(big_answer.json()["text"]) == 5000
    assert "etag" not in big_answer.headers


def test_the_document_declares_if_none_match_304_and_the_headers() -> None:
    with _client() as client:
        doc = client.get("/schema/openapi.json").json()
    read = doc["paths"]["/resorts"]["get"]
    assert "If-None-Match" in [p["name"] for p in read["parameters"]]
    assert "304" in read["responses"]
    assert {"ETag", "Cache-Control", "Vary"} <= set(read["responses"]["200"]["headers"])
    assert "304" not in doc["paths"]["/me"]["get"]["responses"]


def test_cors_answers_only_the_origins_the_settings_name() -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    with _client() as client:
        allowed = client.options("/holds", headers={"Origin": "https://partner.example", **preflight})
        refused = client.options("/holds", headers={"Origin": "https://evil.example", **preflight})
        simple = client.get("/me", headers={"Origin": "https://evil.example"})
        read = client.get("/resorts", headers={"Origin": "https://partner.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://partner.example"
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers
    assert "ETag" in read.headers["access-control-expose-headers"]
    assert "Origin" in read.headers["vary"] and "Accept-Language" in read.headers["vary"]


def test_no_cors_without_origins() -> None:
    assert cors_config(msgspec.structs.replace(SETTINGS, cors_origins=[])) is None
