"""The one mapping from errors to problem+json, on an in-process app (no server needed)."""

from __future__ import annotations

import datetime as dt

import asyncpg
import msgspec
import pytest
import redis.exceptions
from litestar import Litestar, get, post
from litestar.testing import TestClient

from app.bookings.service import BookingRefused
from app.errors import (
    EXCEPTION_HANDLERS,
    AppError,
    Conflict,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    refusal,
    refusals,
)
from app.frontdesk.domain import FrontDeskRefused
from app.holds.domain import HoldRefused


class Payload(msgspec.Struct):
    name: str
    capacity: int


@post("/things")
async def create_thing(data: Payload) -> dict[str, int]:
    return {"capacity": data.capacity}


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals /etc/passwd")


@get("/conflict")
async def conflict() -> None:
    raise Conflict("already there", code="hold_conflict", extra={"hold_id": "h1"})


@get("/gone/{what:str}")
async def gone(what: str) -> None:
    raise {"redis": redis.exceptions.ConnectionError("Connection closed by server."),
           "redis-timeout": redis.exceptions.TimeoutError("Timeout reading from socket"),
           "postgres": asyncpg.exceptions.InternalClientError("cannot switch to state 15")}[what]


@get("/stale")
async def stale() -> None:
    raise PreconditionFailed()


def client() -> TestClient[Litestar]:
    app = Litestar([create_thing, boom, conflict, stale, gone], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    return TestClient(app)


def test_unknown_route_is_404_problem() -> None:
    with client() as c:
        response = c.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


def test_malformed_json_is_400_malformed_body() -> None:
    with client() as c:
        response = c.post("/things", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"


def test_wrong_type_is_422_naming_the_field() -> None:
    with client() as c:
        response = c.post("/things", json={"name": "x", "capacity": "lots"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert any("capacity" in (e["field"] or e["message"]) for e in body["errors"])


def test_unexpected_exception_is_500_without_traceback() -> None:
    with client() as c:
        response = c.get("/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "passwd" not in response.text and "Traceback" not in response.text


def test_app_errors_keep_their_code_and_extras() -> None:
    with client() as c:
        response = c.get("/conflict")
        stale_response = c.get("/stale")
    assert response.status_code == 409
    assert response.json()["code"] == "hold_conflict"
    assert response.json()["hold_id"] == "h1"
    assert stale_response.status_code == 412
    assert stale_response.json()["code"] == "precondition_failed"


def test_method_not_allowed_is_405_problem() -> None:
    with client() as c:
        response = c.delete("/things")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(("status", "kind"), [(404, NotFound), (409, Conflict), (422, ValidationFailed)])
def test_a_refusal_becomes_the_error_of_its_status(status: int, kind: type[AppError]) -> None:
    error = refusal(status, "some_rule", "refused", {"nights": ["2027-01-01"]})
    assert type(error) is kind and error.status == status
    assert (error.code, error.detail, error.extra) == ("some_rule", "refused", {"nights": ["2027-01-01"]})


@pytest.mark.parametrize("refused", [
    HoldRefused(409, "sold_out", "no room", nights=[dt.date(2027, 1, 1)], field="check_in"),
    FrontDeskRefused(409, "sold_out", "no room", nights=["2027-01-01"],
                     errors=[{"field": "check_in", "message": "no room"}]),
    BookingRefused(409, "sold_out", "no room", nights=["2027-01-01"],
                   errors=[{"field": "check_in", "message": "no room"}]),
])
def test_every_domain_refusal_answers_the_same_problem(refused: Exception) -> None:
    @get("/refused")
    async def refuse() -> None:
        with refusals(type(refused)):
            raise refused

    with TestClient(Litestar([refuse], exception_handlers=EXCEPTION_HANDLERS)) as c:  # type: ignore[arg-type]
        response = c.get("/refused")
    body = response.json()
    assert response.status_code == 409 and body["code"] == "sold_out" and body["detail"] == "no room"
    assert body["nights"] == ["2027-01-01"] and body["errors"] == [{"field": "check_in", "message": "no room"}]


@pytest.mark.parametrize(("what", "code"), [("redis", "store_unavailable"), ("redis-timeout", "store_unavailable"),
                                            ("postgres", "database_unavailable")])
def test_a_store_lost_mid_request_is_503_with_retry_after_not_500(what: str, code: str) -> None:
    with client() as c:
        response = c.get(f"/gone/{what}")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
