"""Readiness makes a real round trip to every dependency and names the ones that fail."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import Settings
from tests.support.servers import private_server

DEPENDENCIES = {"postgres", "redis", "kafka", "mongodb", "elasticsearch", "idp"}


async def test_live_answers(client: AsyncTestClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.headers["x-request-id"]


TOKEN = "operators-only-token"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


def _operated(settings: Settings, **changes: object) -> Litestar:
    """An app of the test's own with an operators' token (and ``changes``)."""
    return create_app(msgspec.structs.replace(settings, health_token=TOKEN, **changes))


async def test_public_readiness_names_only_the_required_dependencies(client: AsyncTestClient) -> None:
    response = await client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body == {"status": "ok", "failed": [], "dependencies": {"postgres": {"status": "ok"},
                                                                  "redis": {"status": "ok"}}}


async def test_the_detailed_report_is_for_operators(settings: Settings, stack: object) -> None:
    async with AsyncTestClient(_operated(settings)) as client:
        refused = await client.get("/health/detail")
        assert refused.status_code == 403 and refused.json()["code"] == "health_token_required"
        wrong = await client.get("/health/detail", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 403
        response = await client.get("/health/detail", headers=OPERATOR)
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["dependencies"]) == DEPENDENCIES
    assert all(dep["status"] == "ok" for dep in body["dependencies"].values()), body
    assert all(dep["latency_ms"] >= 0 for dep in body["dependencies"].values())


async def test_public_readiness_is_cheap_and_limited(settings: Settings, stack: object) -> None:
    """Probes share one cached answer, never open a Kafka consumer; the detailed report keeps ONE."""
    app = _operated(settings, health_rate_limit_per_minute=5, health_cache_ms=60_000)
    await _fresh_window()
    async with AsyncTestClient(app) as client:
        answers = [await client.get("/health/ready") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[-1].json()["code"] == "rate_limited"
        readiness = app.state.readiness
        assert readiness.kafka.consumers_opened == 0
        for _ in range(3):
            assert (await client.get("/health/detail", headers=OPERATOR)).status_code == 200
        assert readiness.kafka.consumers_opened == 1


async def _fresh_window() -> None:
    left = 60 - time.time() % 60
    if left < 3:
        await asyncio.sleep(left + 0.1)  # the limiter's window turns over: a condition of the clock


async def test_metrics_are_prometheus_text(client: AsyncTestClient) -> None:
    await client.get("/health/live")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "resort_requests_total" in response.text


async def test_openapi_documents_what_metrics_and_readiness_answer(client: AsyncTestClient) -> None:
    """Found by the schemathesis fuzz run: /metrics was documented as JSON, readiness's 503 not at all."""
    paths = (await client.get("/docs/openapi.json")).json()["paths"]
    metrics = await client.get("/metrics")
    documented = set(paths["/metrics"]["get"]["responses"]["200"]["content"])
    assert documented == {metrics.headers["content-type"]}
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "503" in paths["/health/ready"]["get"]["responses"]


async def test_openapi_document_and_docs_page(client: AsyncTestClient) -> None:
    schema = await client.get("/docs/openapi.json")
    assert schema.status_code == 200
    assert "/health/ready" in schema.json()["paths"]
    page = await client.get("/docs")
    assert page.status_code == 200 and "<html" in page.text.lower()


async def test_root_leads_to_the_docs(client: AsyncTestClient) -> None:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 200 and 'href="/docs"' in response.text


async def test_unknown_route_is_problem_json(client: AsyncTestClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_request_id_from_the_caller_is_kept(client: AsyncTestClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "trace-me-42"})
    assert response.headers["x-request-id"] == "trace-me-42"


async def _ready(client: AsyncTestClient, path: str = "/health/ready") -> tuple[int, dict]:
    response = await client.get(path, headers=OPERATOR)
    return response.status_code, response.json()


async def _until(client: AsyncTestClient, code_wanted: int, path: str = "/health/ready", timeout: float = 20,
                 **expect: object) -> dict:
    """Poll ``path`` until it answers ``code_wanted`` (and the body's ``expect`` values)."""
    deadline = time.monotonic() + timeout
    while True:
        code, body = await _ready(client, path)
        if (code == code_wanted and all(body.get(k) == v for k, v in expect.items())) or time.monotonic() > deadline:
            assert code == code_wanted, body
            assert all(body.get(k) == v for k, v in expect.items()), body
            return body
        await asyncio.sleep(0.05)


def _private(settings: Settings, kind: str) -> tuple[object, object, dict[str, object]]:
    private = private_server(kind, settings.data_path / "private")
    server = private.servers[0]
    overrides: dict[str, object] = {
        "postgres": {"database_url": f"postgresql://postgres@127.0.0.1:{server.port}/postgres", "database_pool_min": 0},
        "redis": {"redis_url": f"redis://127.0.0.1:{server.port}/0"},
        "kafka": {"kafka_bootstrap": f"127.0.0.1:{server.port}"},
    }[kind]
    return private, server, overrides


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_a_required_dependency_down_takes_the_api_out_and_recovers(
    settings: Settings, stack: object, kind: str
) -> None:
    """Point a fresh app at a private server, stop it: 503 naming it, no error text; start it again: 200."""
    private, server, overrides = _private(settings, kind)
    try:
        async with AsyncTestClient(_operated(settings, health_cache_ms=0, **overrides)) as client:
            await _until(client, 200)
            private.stop_server(server.name)
            body = await _until(client, 503)
            assert body == {"status": "down", "failed": [kind],
                            "dependencies": {**{n: {"status": "ok"} for n in ("postgres", "redis") if n != kind},
                                             kind: {"status": "down"}}}
            detail = await _until(client, 503, "/health/detail")
            assert detail["failed"] == [kind] and detail["dependencies"][kind]["error"]
            private.restart_server(server.name)
            body = await _until(client, 200, timeout=40)
            assert body["dependencies"][kind]["status"] == "ok"
    finally:
        private.stop()


async def test_kafka_down_degrades_without_taking_the_api_out(settings: Settings, stack: object) -> None:
    """Bookings do not need the change feed at once: Kafka down is degraded (200), and recovers."""
    private, server, overrides = _private(settings, "kafka")
    try:
        async with AsyncTestClient(_operated(settings, **overrides)) as client:
            await _until(client, 200, "/health/detail", status="ok")
            private.stop_server(server.name)
            body = await _until(client, 200, "/health/detail", status="degraded")
            assert body["degraded"] == ["kafka"] and body["failed"] == []
            assert body["dependencies"]["kafka"]["status"] == "degraded"
            assert (await client.get("/health/ready")).status_code == 200
            private.restart_server(server.name)
            await _until(client, 200, "/health/detail", timeout=40, status="ok")
    finally:
        private.stop()


async def test_elasticsearch_down_degrades(settings: Settings, stack: object) -> None:
    async with AsyncTestClient(_operated(settings, elasticsearch_url="http://127.0.0.1:9")) as client:
        code, body = await _ready(client, "/health/detail")
        assert code == 200 and body["status"] == "degraded" and body["degraded"] == ["elasticsearch"], body
        assert (await client.get("/health/ready")).status_code == 200


async def test_an_unreachable_idp_degrades_without_taking_the_api_out(settings: Settings, stack: object) -> None:
    async with AsyncTestClient(_operated(settings, oidc_issuer="http://127.0.0.1:9")) as client:
        code, body = await _ready(client, "/health/detail")
    assert code == 200
    assert body["status"] == "degraded"
    assert body["degraded"] == ["idp"]


async def test_openapi_documents_errors_as_problem_json(client: AsyncTestClient) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    admin = document["paths"]["/admin/properties"]["post"]["responses"]
    assert {"400", "401", "403", "429"} <= set(admin)
    assert all(list(admin[s]["content"]) == ["application/problem+json"] for s in ("400", "401", "403"))
    public = document["paths"]["/search"]["get"]["responses"]
    # A public route still refuses a bad token (401), but never asks for one or for a role.
    assert "403" not in public and "authentication_required" not in public["401"]["description"]
    assert "invalid_token" in public["401"]["description"]
    assert "code" in document["components"]["schemas"]["Problem"]["required"]
