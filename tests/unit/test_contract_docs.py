"""The conventions of app.problem_docs on a small in-process app: a new controller that follows them is
documented right without touching the start-up pass (no server needed)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Litestar, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.testing import TestClient

from app.errors import EXCEPTION_HANDLERS
from app.problem_docs import document_api, refusals_of_valid_requests, returns
from app.strict_bodies import StrictRequest


class HoldIn(msgspec.Struct, forbid_unknown_fields=True):
    nights: Annotated[int, msgspec.Meta(ge=1)]
    flexible: bool = False


class HoldOut(msgspec.Struct):
    id: str
    nights: int


class HoldPatch(msgspec.Struct, forbid_unknown_fields=True):
    nights: int | msgspec.UnsetType = msgspec.UNSET


IfMatch = Annotated[str | None, Parameter(header="If-Match")]


class HoldController(Controller):
    path = "/holds"

    @post("/", opt={"problems": {409: ("hold_conflict",)}, "links": {"hold_id": "/id", "header.If-Match": "ETag"},
                    "rules": {422: "the product must have free units (`sold_out`)"},
                    "feeds": {"POST /bookings": {"hold_ids": ["/id"], "card": "tok_approve"}}})
    async def create(self, data: HoldIn) -> HoldOut:
        return HoldOut("h1", data.nights)

    @get("/{hold_id:str}", responses=returns(HoldOut), opt={"public": True})
    async def read(self, hold_id: str, if_none_match: Annotated[str | None, Parameter(header="If-None-Match")]
                   = None) -> Response[bytes]:
        return Response(b'{"id": "h1", "nights": 1}', media_type="application/json")


@patch("/holds/{hold_id:str}", opt={"problems": {428: ("precondition_required",)}})
async def change(hold_id: str, data: HoldPatch, if_match: IfMatch = None) -> HoldOut:
    return HoldOut(hold_id, 2)


class BookingIn(msgspec.Struct, forbid_unknown_fields=True):
    hold_ids: list[str]
    card: str


@post("/bookings")
async def book(data: BookingIn) -> BookingIn:
    return data


@delete("/holds/{hold_id:str}")
async def release(hold_id: str) -> None:
    return None


@get("/health/deep")
async def deep() -> dict[str, str]:
    return {"status": "ok"}


def _app() -> Litestar:
    return Litestar([HoldController, change, deep, book, release], on_startup=[document_api], request_class=StrictRequest,
                    exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]


def _document() -> tuple[Litestar, dict[str, Any]]:
    app = _app()
    with TestClient(app) as client:
        return app, client.get("/schema/openapi.json").json()


def test_statuses_are_inferred_from_the_conventions() -> None:
    _, doc = _document()
    create = doc["paths"]["/holds"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "403", "409", "422", "429", "503"}
    assert "hold_conflict" in create["responses"]["409"]["description"]
    assert "`sold_out`" in create["description"]  # the rule, written down
    assert list(create["responses"]["422"]["content"]) == ["application/problem+json"]
    read = doc["paths"]["/holds/{hold_id}"]["get"]
    assert set(read["responses"]) == {"200", "304", "401", "404", "422", "429", "503"}
    assert "authentication_required" not in read["responses"]["401"]["description"]  # public: token optional
    assert read["security"][0] == {}
    assert read["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HoldOut"}
    assert set(doc["paths"]["/health/deep"]["get"]["responses"]) == {"200"}  # the gateway does not see it


def test_a_required_if_match_and_a_patch_body_are_documented_as_the_app_checks_them() -> None:
    app, doc = _document()
    change_op = doc["paths"]["/holds/{hold_id}"]["patch"]
    if_match = next(p for p in change_op["parameters"] if p["name"] == "If-Match")
    assert if_match["required"] is True and if_match["schema"]["pattern"] == r"\S"
    assert {"412", "428"} <= set(change_op["responses"])
    assert doc["components"]["schemas"]["HoldPatch"]["minProperties"] == 1
    assert doc["components"]["schemas"]["HoldIn"]["additionalProperties"] is False
    assert refusals_of_valid_requests(app) == {("POST", "/holds"): {422}, ("PATCH", "/holds/{hold_id}"): {412}}


def test_links_carry_the_created_id_and_etag_to_every_operation_taking_them() -> None:
    _, doc = _document()
    links = doc["paths"]["/holds"]["post"]["responses"]["201"]["links"]
    by_target = {link["operationId"]: link["parameters"] for link in links.values() if "parameters" in link}
    assert {"path.hold_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"} in by_target.values()
    assert {"path.hold_id": "$response.body#/id"} in by_target.values()  # the read takes no If-Match


def test_a_link_gives_a_whole_request_body_from_the_answer() -> None:
    _, doc = _document()
    links = doc["paths"]["/holds"]["post"]["responses"]["201"]["links"]
    fed = next(link for link in links.values() if "requestBody" in link)
    assert fed["requestBody"] == {"hold_ids": ["$response.body#/id"], "card": "tok_approve"}
    assert fed["operationId"] == doc["paths"]["/bookings"]["post"]["operationId"]
    assert fed["x-schemathesis"] == {"merge_body": False}  # the link gives the whole body


def test_options_allows_every_method_of_the_path() -> None:
    with TestClient(_app()) as client:
        answer = client.options("/holds/h1")
    assert answer.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"


def test_bodies_are_decoded_strictly_but_a_whole_float_is_an_integer() -> None:
    with TestClient(_app()) as client:
        assert client.post("/holds", json={"nights": "2"}).status_code == 422
        refused = client.post("/holds", json={"nights": 2, "flexible": 0})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "flexible"
        assert client.post("/holds", json={"nights": 2.0}).json() == {"id": "h1", "nights": 2}
