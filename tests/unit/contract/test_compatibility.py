"""The document's version changes with the contract, and every breaking change since the last release
is announced in the changelog (compared with ``contract/openapi.released.json``)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from app.contract.compat import breaking_changes
from app.contract.document import CHANGELOG, RELEASED_DOC, built_app, document, unreleased
from app.contract.release import RELEASED_DIGEST, RELEASED_VERSION
from app.contract.version import digest, version_of


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document(built_app())


@pytest.fixture(scope="module")
def released() -> dict[str, Any]:
    return json.loads(RELEASED_DOC.read_text())


def test_the_release_record_is_the_released_document(released: dict[str, Any]) -> None:
    assert (released["info"]["version"], digest(released)) == (RELEASED_VERSION, RELEASED_DIGEST)


def test_the_served_version_is_the_release_or_names_the_changed_contract(doc: dict[str, Any]) -> None:
    assert doc["info"]["version"] == version_of(doc)
    changed = copy.deepcopy(doc)
    changed["paths"]["/new"] = {"get": {"responses": {"200": {"description": "OK"}}}}
    assert version_of(changed) == f"{RELEASED_VERSION}+{digest(changed)[:12]}" != version_of(doc)
    assert version_of({**doc, "info": {**doc["info"], "version": "9.9.9"}}) == version_of(doc)


def test_every_breaking_change_since_the_release_is_announced(doc: dict[str, Any], released: dict[str, Any]) -> None:
    announced = unreleased(CHANGELOG.read_text())
    missing = [change for change in breaking_changes(released, doc) if change not in announced]
    assert missing == [], (
        "breaking changes for partners' generated clients since the last release: if on purpose, quote each "
        f"line under `## Unreleased` / `### Breaking` in {CHANGELOG.name}:\n" + "\n".join(f"- {m}" for m in missing))


def _doc() -> dict[str, Any]:
    hold_in = {"type": "object", "additionalProperties": False, "required": ["night"],
               "properties": {"night": {"type": "string"}, "kind": {"enum": ["room", "ticket"]}}}
    hold_out = {"type": "object", "required": ["id", "status"],
                "properties": {"id": {"type": "string"}, "status": {"enum": ["held", "released"]}}}
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HoldIn"}}}}
    answer = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HoldOut"}}}}
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/holds": {"post": {"operationId": "CreateHold", "requestBody": body,
                                          "parameters": [{"name": "page", "in": "query", "required": False}],
                                          "responses": {"201": answer}}}},
            "components": {"schemas": {"HoldIn": hold_in, "HoldOut": hold_out}}}


def test_additions_are_not_breaking() -> None:
    new = _doc()
    new["paths"]["/bookings"] = {"get": {"operationId": "ListBookings", "responses": {"200": {}}}}
    new["components"]["schemas"]["HoldIn"]["properties"]["note"] = {"type": "string"}
    new["components"]["schemas"]["HoldIn"]["properties"]["kind"]["enum"].append("package")
    new["components"]["schemas"]["HoldOut"]["required"].append("night")
    assert breaking_changes(_doc(), new) == []


def test_what_breaks_a_generated_client_is_named() -> None:
    new = _doc()
    operation = new["paths"]["/holds"]["post"]
    operation["operationId"] = "HoldsCreate"
    operation["parameters"][0]["required"] = True
    operation["responses"] = {"202": operation["responses"]["201"]}
    hold_in, hold_out = new["components"]["schemas"]["HoldIn"], new["components"]["schemas"]["HoldOut"]
    hold_in["required"].append("kind")
    hold_in["properties"]["kind"]["enum"] = ["room"]
    hold_out["required"] = ["id"]
    hold_out["properties"]["status"]["enum"].append("converted")
    assert breaking_changes(_doc(), new) == [
        "operation POST /holds: operationId `CreateHold` is now `HoldsCreate`",
        "operation POST /holds: no longer answers 201",
        "operation POST /holds: query parameter `page` is now required",
        "schema HoldIn: property `kind` is now required",
        "schema HoldIn: `kind` no longer accepts `ticket`",
        "schema HoldOut: property `status` is no longer always answered",
        "schema HoldOut: `status` may answer the new value `converted`",
    ]
    del new["paths"]["/holds"]
    assert breaking_changes(_doc(), new)[0] == "operation POST /holds: removed"


def test_the_unreleased_section_is_read_up_to_the_next_release() -> None:
    text = "# Changelog\nSee `## Unreleased` below.\n\n## Unreleased\n\n- a change\n\n## 0.1.0\n\n- old\n"
    assert unreleased(text).strip() == "- a change"
