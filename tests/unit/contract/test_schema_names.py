"""Schema names are part of the contract (generated clients name their classes after them): unique,
plain words chosen on purpose, every reference resolves, and the set is the checked snapshot."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.testing import TestClient

from app.contract.document import REWRITE, SCHEMA_NAMES, built_app, document, schema_names, snapshot_text
from app.contract.names import PUBLIC_NAME, PublicNames, clashes
from app.contract_docs import schema_classes
from app.problem_docs import document_api


@pytest.fixture(scope="module")
def app() -> Litestar:
    return built_app()


@pytest.fixture(scope="module")
def doc(app: Litestar) -> dict[str, Any]:
    return document(app)


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def test_no_two_schemas_of_the_app_share_a_name(app: Litestar) -> None:
    found = clashes(schema_classes(app))
    assert found == {}, ("two classes would be one schema; give one a `__contract_name__` "
                         f"(see app/contract/names.py): {found}")


def test_every_name_is_a_plain_word_not_a_module_path(doc: dict[str, Any]) -> None:
    assert [name for name in schema_names(doc) if not PUBLIC_NAME.match(name)] == []


def test_every_reference_resolves_and_every_schema_is_used(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    used = {ref.removeprefix("#/components/schemas/") for ref in _refs(doc)}
    assert sorted(used - set(schemas)) == []  # no dangling reference
    assert sorted(set(schemas) - used) == []  # no orphan (e.g. a second, unused copy)
    assert all(schema.get("title") == name for name, schema in schemas.items())


def test_the_names_are_the_checked_snapshot(doc: dict[str, Any]) -> None:
    assert snapshot_text(doc) == SCHEMA_NAMES.read_text(), (
        f"the schema names changed: if on purpose, run `{REWRITE}` (rewrites {SCHEMA_NAMES.name}) and "
        "commit it; a renamed schema renames partners' generated classes (a breaking change)")


class NightOut(msgspec.Struct):
    night: str


class Stay(msgspec.Struct):
    nights: list[NightOut]


def _other_night() -> type:
    class NightOut(msgspec.Struct):  # the same class name in another place
        amount: int

    return NightOut


OtherNight = _other_night()


class Booking(msgspec.Struct):
    stay: Stay
    priced: list[OtherNight]  # type: ignore[valid-type]


def _small_document(*handlers: Any) -> tuple[Litestar, dict[str, Any]]:
    app = Litestar(list(handlers), plugins=[PublicNames()], on_startup=[document_api])
    with TestClient(app) as client:
        return app, client.get("/schema/openapi.json").json()


def test_two_classes_of_one_name_are_reported_and_neither_name_is_a_module_path_silently() -> None:
    @post("/bookings")
    async def book(data: Booking) -> Booking:
        return data

    app, doc = _small_document(book)
    assert set(clashes(schema_classes(app))) == {"NightOut"}
    assert [name for name in schema_names(doc) if not PUBLIC_NAME.match(name)] != []  # the test above fails


class QuotedNightOut(msgspec.Struct):
    __contract_name__ = "PricedNight"
    amount: int


class Quote(msgspec.Struct):
    nights: list[QuotedNightOut]


def test_a_contract_name_names_the_schema_and_every_reference_to_it() -> None:
    @get("/quote")
    async def quote() -> Quote:
        return Quote([])

    @get("/night")
    async def night() -> QuotedNightOut:
        return QuotedNightOut(1)

    _, doc = _small_document(quote, night)
    assert schema_names(doc) == ["PricedNight", "Problem", "Quote"]
    body = doc["paths"]["/night"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PricedNight"}
    assert json.dumps(doc).count('"#/components/schemas/PricedNight"') == 2
    assert re.search(r"QuotedNightOut|test_schema_names", json.dumps(doc)) is None
