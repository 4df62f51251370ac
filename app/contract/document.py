"""The document as partners download it, built in-process, and the checked snapshots made from it.

``python -m app.contract`` rewrites the snapshots under ``contract/`` at the repository's root after a
change on purpose (the tests that compare them name this command when they fail).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar import Litestar

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = ROOT / "contract"
SCHEMA_NAMES = CONTRACT_DIR / "schema-names.txt"
REWRITE = "python -m app.contract"


def built_app(settings: Settings | None = None) -> Litestar:
    """The api app with its document finished as at start-up (no server is contacted)."""
    from app.main import create_app
    from app.problem_docs import document_api

    app = create_app(settings or Settings())
    document_api(app)
    return app


def document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def schema_names(doc: dict[str, Any]) -> list[str]:
    return sorted(doc.get("components", {}).get("schemas", {}))


def snapshot_text(doc: dict[str, Any]) -> str:
    return "".join(f"{name}\n" for name in schema_names(doc))


def write_snapshots(doc: dict[str, Any]) -> list[Path]:
    CONTRACT_DIR.mkdir(exist_ok=True)
    SCHEMA_NAMES.write_text(snapshot_text(doc))
    return [SCHEMA_NAMES]


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
