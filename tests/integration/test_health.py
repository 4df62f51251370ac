"""Readiness makes a real round trip to every dependency and names the ones that fail."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import Settings
from tests.support.servers import private_server

DEPENDENCIES = {"postgres", "redis", "kafka", "mongodb", "elasticsearch", "idp"}


async def test_live_answers(client: AsyncTestClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.headers["x-request-id"]


async def test_ready_reports_every_dependency_healthy(client: AsyncTestClient) -> None:
    response = await client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["dependencies"]) == DEPENDENCIES
    assert all(dep["status"] == "ok" for dep in body["dependencies"].values()), body
    assert all(dep["latency_ms"] >= 0 for dep in body["dependencies"].values())


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


async def _ready(client: AsyncTestClient) -> tuple[int, dict]:
    response = await client.get("/health/ready")
    return response.status_code, response.json()


async def _until(client: AsyncTestClient, status: int, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        code, body = await _ready(client)
        if code == status or time.monotonic() > deadline:
            assert code == status, body
            return body


@pytest.mark.parametrize("kind", ["redis", "kafka", "postgres"])
async def test_a_stopped_dependency_is_named_and_recovers_without_restart(
    settings: Settings, stack: object, kind: str, tmp_path: Path
) -> None:
    """Point a fresh app at a private server, stop it: 503 naming it; start it again: 200."""
    if kind == "postgres":
        private = private_server("postgres", settings.data_path / "private")
        server = private.servers[0]
        url = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        overrides = {"database_url": url, "database_pool_min": 0}
    else:
        private = private_server(kind, settings.data_path / "private")
        server = private.servers[0]
        key = {"redis": "redis_url", "kafka": "kafka_bootstrap"}[kind]
        value = f"redis://127.0.0.1:{server.port}/0" if kind == "redis" else f"127.0.0.1:{server.port}"
        overrides = {key: value}
    name = {"redis": "redis", "kafka": "kafka", "postgres": "postgres"}[kind]
    app = create_app(msgspec.structs.replace(settings, **overrides))
    try:
        async with AsyncTestClient(app) as client:
            await _until(client, 200)
            private.stop_server(server.name)
            body = await _until(client, 503)
            assert body["failed"] == [name]
            assert body["dependencies"][name]["status"] == "down"
            private.restart_server(server.name)
            body = await _until(client, 200, timeout=40)
            assert body["dependencies"][name]["status"] == "ok"
    finally:
        private.stop()


async def test_an_unreachable_idp_degrades_without_taking_the_api_out(settings: Settings, stack: object) -> None:
    app = create_app(msgspec.structs.replace(settings, oidc_issuer="http://127.0.0.1:9"))
    async with AsyncTestClient(app) as client:
        code, body = await _ready(client)
    assert code == 200
    assert body["status"] == "degraded"
    assert body["degraded"] == ["idp"]


async def test_openapi_documents_errors_as_problem_json(client: AsyncTestClient) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    admin = document["paths"]["/admin/properties"]["post"]["responses"]
    assert {"400", "401", "403", "429"} <= set(admin)
    assert all(list(admin[s]["content"]) == ["application/problem+json"] for s in ("400", "401", "403"))
    public = document["paths"]["/search"]["get"]["responses"]
    assert "401" not in public and "403" not in public
    assert "code" in document["components"]["schemas"]["Problem"]["required"]
