"""Where bookings live (issue 21, point 6): the booking capability is ``app/bookings``; ``sagas/`` holds the
orchestration only. The front desk and payments reach bookings through ``app.bookings``, never through the
saga's internals, and the saga serves no HTTP.

Each module's source is read for imports anywhere in it (a lazy import inside a function counts too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_ROUTE = re.compile(r"^\s*@(get|post|put|patch|delete|head|websocket|route)\(", re.M)


def _imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _named(paths: list[Path]) -> list[Path]:
    assert paths, "the folder has modules"
    return paths


@pytest.mark.parametrize("path", _named(_modules("app/frontdesk") + _modules("app/payments")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_front_desk_and_payments_import_nothing_of_the_saga(path: Path) -> None:
    assert [m for m in _imported_modules(path) if m == "sagas" or m.startswith("sagas.")] == []


@pytest.mark.parametrize("path", _named(_modules("sagas")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_saga_declares_no_http_route(path: Path) -> None:
    """No route handler, no controller, no web framework: its API is ``app.bookings.api``."""
    source = path.read_text()
    assert (_ROUTE.findall(source), [m for m in _imported_modules(path) if m.split(".")[0] == "litestar"]) == ([], [])


def test_no_feature_declares_the_saga_to_the_api() -> None:
    from app.main import FEATURES

    assert [f for f in FEATURES if f == "sagas" or f.startswith("sagas.")] == []
