"""One booking is one trace: the api and every worker role as real processes with ``RESORT_OTEL_EXPORTER=otlp``,
exporting over real OTLP/HTTP to a receiver in the test. The booking's POST carries a W3C ``traceparent``;
every span of the saga (api, relay, orchestrator, participants, booking views, live publisher, the api's
WebSocket push) must land in that trace, each one's parent a span of the same trace. A catalogue change's
trace reaches the projector the same way."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from tests.integration.bookings.conftest import FAST, Roles, booking_body, topics_exist
from tests.integration.holds.conftest import hold_body
from tests.integration.realtime.client import Live
from tests.support.auth import serve_api, subprocess_environment
from tests.support.otlp import OtlpReceiver, Span
from tests.support.wait import until

ROLES = ("relay", "saga", "services", "booking-views", "publisher", "projector")
SERVER, CONSUMER = 2, 5  # OTLP span kinds


@pytest.fixture(scope="module")
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def traced_env(settings: Any, otlp: OtlpReceiver) -> dict[str, str]:
    run = uuid.uuid4().hex[:8]
    return {**os.environ, **subprocess_environment(settings), **FAST, "RESORT_SAGA_GROUP": f"trace-saga-{run}",
            "RESORT_SERVICES_GROUP": f"trace-services-{run}", "RESORT_LIVE_PUBLISHER_GROUP": f"trace-live-{run}",
            "RESORT_KAFKA_TOPIC_PREFIX": f"o{run}.",  # topics of its own (see the bookings' saga_roles)
            "RESORT_OTEL_EXPORTER": "otlp", "RESORT_OTEL_ENDPOINT": otlp.url, "RESORT_OTEL_BATCH_DELAY_MS": "100"}


@pytest.fixture(scope="module")
def traced_roles(settings: Any, stack: object, traced_env: dict[str, str],
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    # every topic first: a consumer that joins before its topic exists sees it only at its next metadata refresh
    asyncio.run(topics_exist(msgspec.structs.replace(settings, kafka_topic_prefix=traced_env["RESORT_KAFKA_TOPIC_PREFIX"]),
                             ("saga.commands", "saga.replies", "catalog", "inventory", "holds", "bookings")))
    roles = Roles(traced_env, tmp_path_factory.mktemp("traced-roles"))
    for role in ROLES:
        roles.start(role)
    try:
        for role in ("saga", "services"):
            roles.wait_ready(role)
        yield roles
    finally:
        roles.stop()


@pytest.fixture(scope="module")
def traced_api(traced_env: dict[str, str], stack: object) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with serve_api(traced_env | {"RESORT_PUBLIC_URL": f"http://127.0.0.1:{port}"}, port) as url:
        yield url


EXPECTED = {"/holds": 201, "/bookings": 202}  # a hold is placed; a booking is accepted (its saga runs on)


async def _post(http: httpx.AsyncClient, path: str, body: dict, headers: dict[str, str]) -> dict:
    response = await http.post(path, json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == EXPECTED[path], response.text
    return response.json()


def _whole(spans: list[Span], caller_span: str) -> bool:
    """Every span's parent is in the trace (or is the caller's): one tree, nothing missing yet."""
    ids = {s.span_id for s in spans} | {caller_span}
    return all(s.parent_id in ids for s in spans)


async def test_one_booking_is_one_trace_across_the_api_and_the_workers(
    traced_roles: Roles, traced_api: str, otlp: OtlpReceiver, catalog_resort: Any, auth_kit: Any
) -> None:
    guest, _ = await auth_kit.sign_in(["guest"])
    desk_headers, _ = await auth_kit.sign_in(["front_desk", f"property:{catalog_resort.property['id']}"])
    desk = await Live.open(traced_api, headers=desk_headers)
    await desk.subscribe(f"frontdesk:{catalog_resort.property['id']}")
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    async with httpx.AsyncClient(base_url=traced_api, timeout=10) as http:
        hold = await _post(http, "/holds", hold_body(catalog_resort.room, catalog_resort.start), guest)
        booking = await _post(http, "/bookings", booking_body([hold["id"]]),
                              guest | {"traceparent": f"00-{trace_id}-{caller_span}-01"})
    await desk.until(lambda f: f["type"] == "update" and f["data"].get("event_type") == "booking.confirmed"
                     and f["data"]["booking_id"] == booking["id"], timeout=60)
    await desk.close()
    expected = {("resort-services", "process inventory.convert"), ("resort-services", "process payment.charge"),
                ("resort-saga", "process converted"), ("resort-saga", "process paid"),
                ("resort-booking-views", "process booking.confirmed"), ("resort-publisher", "process booking.confirmed"),
                ("resort-relay", "publish booking.confirmed"), ("resort-api", "push frontdesk")}

    async def whole_trace() -> list[Span] | None:
        spans = otlp.of_trace(trace_id)
        return spans if expected <= {(s.service, s.name) for s in spans} and _whole(spans, caller_span) else None

    spans = await until(whole_trace, timeout=30)
    (request,) = [s for s in spans if s.kind == SERVER]
    assert (request.service, request.name, request.parent_id) == ("resort-api", "POST /bookings", caller_span)
    assert request.attributes["http.route"] == "/bookings"
    assert all(s.attributes["messaging.message.id"] for s in spans if s.kind == CONSUMER)
    hold_trace = {s.trace_id for s in otlp.spans if s.kind == SERVER and s.name.endswith("/holds")}
    assert trace_id not in hold_trace  # the hold was another request: another trace
    lines = [json.loads(line) for line in (traced_roles.log_dir / "services.log").read_text().splitlines()
             if line.startswith("{")]
    assert any(line.get("event") == "saga_command" and line.get("trace_id") == trace_id for line in lines)


async def test_the_api_names_its_spans_by_route_and_logs_their_trace_id(
    traced_api: str, traced_env: dict[str, str], otlp: OtlpReceiver, auth_kit: Any
) -> None:
    guest, _ = await auth_kit.sign_in(["guest"])
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    async with httpx.AsyncClient(base_url=traced_api, timeout=10) as http:
        response = await http.get(f"/bookings/{uuid.uuid4()}", headers=guest | {
            "traceparent": f"00-{trace_id}-{caller_span}-01", "X-Request-ID": f"trace-{trace_id}"})
    assert response.status_code == 404

    async def served() -> list[Span]:
        return otlp.of_trace(trace_id)

    (span,) = await until(served, timeout=10)
    assert (span.name, span.attributes["http.route"]) == ("GET /bookings/{booking_id}", "/bookings/{booking_id}")
    assert span.parent_id == caller_span
    log = Path(traced_env["RESORT_DATA_DIR"]) / f"api-{traced_api.rsplit(':', 1)[1]}.log"
    access = [json.loads(line) for line in log.read_text().splitlines() if f"trace-{trace_id}" in line]
    assert access and all(line["trace_id"] == trace_id for line in access)  # the access line, after the span


async def test_a_catalogue_change_is_traced_to_the_projector(
    traced_roles: Roles, traced_api: str, otlp: OtlpReceiver, catalog_resort: Any, auth_kit: Any, settings: Any
) -> None:
    admin, _ = await auth_kit.sign_in(settings.roles_for_groups(["staff", "resort-admins"]))
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    async with httpx.AsyncClient(base_url=traced_api, timeout=10) as http:
        response = await http.patch(f"/admin/products/{catalog_resort.room['id']}", json={"name": "Traced Room"},
                                    headers=admin | {"If-Match": "*", "traceparent": f"00-{trace_id}-{caller_span}-01"})
    assert response.status_code == 200, response.text

    async def projected() -> list[Span] | None:
        spans = otlp.of_trace(trace_id)
        names = {(s.service, s.name) for s in spans}
        return spans if ("resort-projector", "process product.changed") in names and _whole(spans, caller_span) else None

    spans = await until(projected, timeout=30)
    # The live publisher reads every catalogue event too (it publishes price changes, skips the rest); its span
    # joins the trace whenever it has read this one, before or after the projector's.
    assert {s.service for s in spans} - {"resort-publisher"} == {"resort-api", "resort-relay", "resort-projector"}
