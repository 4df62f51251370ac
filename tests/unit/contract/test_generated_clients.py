"""A partner's generated clients are complete: every operation, every schema, every typed answer, and
the generators say nothing to warn about. (The journey through the Python client against the running
system is tests/integration/contract/test_partner_sdk.py.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.contract.document import built_app, document
from tests.support.clients import (
    TS_BIN,
    json_statuses,
    operations,
    python_client,
    python_models,
    python_requests,
    typescript_client,
)

WARNING = re.compile(r"warn|error|skipp", re.I)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document(built_app())


def test_the_python_client_has_every_operation_schema_and_typed_answer(doc: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    generated = python_client(doc, tmp_path)
    assert WARNING.search(generated.output) is None, generated.output
    requests = python_requests(generated.root)
    assert sorted(set(operations(doc)) - set(requests)) == []
    assert python_models(generated.root) >= set(doc["components"]["schemas"])
    untyped = {f"{method} {path}": sorted(json_statuses(op) - requests[(method, path)])
               for (method, path), op in operations(doc).items() if json_statuses(op) - requests[(method, path)]}
    assert untyped == {}  # e.g. a 201 parsed as nothing


def test_the_typescript_client_has_every_operation_and_schema(doc: dict[str, Any], tmp_path: Path) -> None:
    assert TS_BIN.exists(), "scripts/setup.sh installs the generator (npm ci in contract/clients/ts)"
    generated = typescript_client(doc, tmp_path)
    assert WARNING.search(generated.output) is None, generated.output
    text = (tmp_path / "api.d.ts").read_text()
    assert all(f"{name}: {{" in text or f"{name}: " in text for name in doc["components"]["schemas"])
