"""Layering: the infrastructure imports no feature, and a feature's domain imports no web stack.

Imports are checked in a fresh interpreter (``sys.modules`` of the test process already holds everything),
and the infrastructure's source is read for imports anywhere in it (a lazy import inside a function
counts too).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("app.auth", "app.catalog", "app.search", "app.holds", "app.bookings", "app.frontdesk", "sagas", "realtime", "sync",
            "app.activity", "app.recommend")
INFRASTRUCTURE = ("app.resources", "app.db.documents", "app.db.migrate", "app.worker", "app.outbox",
                  "app.settings", "app.errors", "app.consumer", "app.lanes", "app.unit_of_work")
DOMAINS = ("app.catalog.domain", "app.holds.domain", "app.frontdesk.domain", "sagas.domain", "app.activity.domain",
           "app.recommend.domain", "app.bookings.policy")


def _loaded_after(module: str) -> list[str]:
    """The modules a fresh interpreter holds after ``import module``."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _is_feature(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FEATURES)


@pytest.mark.parametrize("module", ["app.resources", "app.db.documents"])
def test_importing_the_infrastructure_imports_no_feature(module: str) -> None:
    assert [m for m in _loaded_after(module) if _is_feature(m)] == []


def _imported_names(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.extend([node.module, *(f"{node.module}.{alias.name}" for alias in node.names)])
    return names


@pytest.mark.parametrize("module", INFRASTRUCTURE)
def test_the_infrastructure_names_no_feature_anywhere_in_its_source(module: str) -> None:
    path = ROOT / (module.replace(".", "/") + ".py")
    assert [n for n in _imported_names(path) if _is_feature(n)] == []


@pytest.mark.parametrize("module", DOMAINS)
def test_importing_a_domain_does_not_start_the_web_stack(module: str) -> None:
    loaded = _loaded_after(module)
    assert "litestar" not in loaded
    assert not [m for m in loaded if m.endswith((".api", ".controller", ".admin", ".public"))]


def test_the_composition_root_collects_the_documents_features_declare() -> None:
    from app.catalog.documents import DOCUMENTS
    from app.main import _features, documents_of

    assert documents_of(_features()) == DOCUMENTS


_ROUTE = re.compile(r"^\s*@(get|post|put|patch|delete|websocket|route)\(", re.M)
_STORE_ACCESS = re.compile(
    r"\.(acquire|fetch|fetchrow|fetchval|execute|executemany)\(|resources\.(db|redis|es|mongo)\b"
    r"|\b(SELECT|INSERT INTO|DELETE FROM)\b|\bUPDATE \w+ SET\b|\bimport repository\b|repository as"
)


def _controllers() -> list[Path]:
    """Every module that declares routes (the composition root's ``/ping`` aside)."""
    found = []
    for folder in ("app", "sagas", "realtime"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path != ROOT / "app/main.py" and _ROUTE.search(path.read_text()):
                found.append(path)
    return found


def test_the_controllers_are_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in _controllers()}
    assert {"app/catalog/admin.py", "app/catalog/public.py", "app/holds/controller.py", "app/bookings/controller.py",
            "app/frontdesk/controller.py", "app/auth/login.py", "realtime/endpoint.py"} <= names


@pytest.mark.parametrize("path", _controllers(), ids=lambda p: str(p.relative_to(ROOT)))
def test_controllers_translate_http_and_reach_no_store(path: Path) -> None:
    """No SQL, no pool or client of a store, no repository in a controller: its service does that."""
    assert [m.group(0) for m in _STORE_ACCESS.finditer(path.read_text())] == []


@pytest.mark.parametrize("path", ["app/catalog/admin.py", "app/catalog/public.py"])
def test_the_catalogue_controllers_call_its_one_service_module(path: str) -> None:
    """``app.catalog.service`` is the catalogue's entry point: the controllers reach no write, read or store
    module behind it (only HTTP helpers, schemas and the domain's types)."""
    allowed = {"service", "access", "headers", "responses", "schemas", "domain"}
    used = {n.split(".")[2] for n in _imported_names(ROOT / path) if n.startswith("app.catalog.")}
    assert used <= allowed


# Where bookings live (issue 21, point 6): the booking capability is ``app/bookings``; ``sagas/`` holds the
# orchestration only. The front desk and payments reach bookings through ``app.bookings``, never through the
# saga's internals, and the saga serves no HTTP.
def _modules(*folders: str) -> list[Path]:
    found = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]
    assert found, f"{folders} hold modules"
    return found


@pytest.mark.parametrize("path", _modules("app/frontdesk", "app/payments"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_front_desk_and_payments_import_nothing_of_the_saga(path: Path) -> None:
    assert [n for n in _imported_names(path) if n == "sagas" or n.startswith("sagas.")] == []


@pytest.mark.parametrize("path", _modules("sagas"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_saga_declares_no_http_route(path: Path) -> None:
    """No route handler, no web framework: the bookings API is ``app.bookings.api``."""
    web = [n for n in _imported_names(path) if n.split(".")[0] == "litestar"]
    assert (_ROUTE.findall(path.read_text()), web) == ([], [])


def test_no_saga_module_is_a_feature_of_the_api() -> None:
    from app.main import FEATURES

    assert [f for f in FEATURES if f == "sagas" or f.startswith("sagas.")] == []
