"""Layering: the infrastructure imports no feature, and a feature's domain imports no web stack.

Imports are checked in a fresh interpreter (``sys.modules`` of the test process already holds everything),
and the infrastructure's source is read for imports anywhere in it (a lazy import inside a function
counts too).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("app.auth", "app.catalog", "app.search", "app.holds", "app.frontdesk", "sagas", "realtime", "sync")
INFRASTRUCTURE = ("app.resources", "app.db.documents", "app.db.migrate", "app.worker", "app.outbox",
                  "app.settings", "app.errors")
DOMAINS = ("app.catalog.domain", "app.holds.domain", "app.frontdesk.domain", "sagas.domain")


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
