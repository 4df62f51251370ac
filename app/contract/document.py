"""The document as partners download it, built in-process, the checked snapshots made from it, and
releases.

``python -m app.contract`` rewrites the snapshots under ``contract/`` at the repository's root after a
change on purpose (the tests that compare them name this command when they fail).
``python -m app.contract release X.Y.Z`` releases the document as it is: ``contract/openapi.released.json``
(what the breaking-change test compares with), ``app/contract/release.py`` (the served version) and the
changelog's ``## Unreleased`` section, which becomes ``## X.Y.Z``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from litestar import Litestar

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = ROOT / "contract"
SCHEMA_NAMES = CONTRACT_DIR / "schema-names.txt"
CHANGELOG = CONTRACT_DIR / "CHANGELOG.md"
RELEASED_DOC = CONTRACT_DIR / "openapi.released.json"
RELEASE_MODULE = Path(__file__).with_name("release.py")
UNRELEASED = "## Unreleased"
_UNRELEASED_LINE = re.compile(r"^## Unreleased[ \t]*$", re.M)
REWRITE = "python -m app.contract"


def built_app(settings: Settings | None = None) -> Litestar:
    """The api app with its document finished as at start-up (no server is contacted)."""
    from app.contract.version import stamp_version
    from app.main import create_app
    from app.problem_docs import document_api

    app = create_app(settings or Settings())
    document_api(app)
    stamp_version(app)
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


def unreleased(changelog: str) -> str:
    """The text of the changelog's ``## Unreleased`` section (empty when it has none)."""
    start = _UNRELEASED_LINE.search(changelog)
    if start is None:
        return ""
    rest = changelog[start.end():]
    end = re.search(r"^## ", rest, re.M)
    return rest[: end.start() if end else len(rest)]


def release(version: str, doc: dict[str, Any]) -> list[Path]:
    """Record ``doc`` as release ``version`` (see the module's docstring)."""
    from app.contract.version import digest

    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise SystemExit(f"a release is X.Y.Z, not {version!r}")
    released = {**doc, "info": {**doc["info"], "version": version}}
    RELEASED_DOC.write_text(dumps(released))
    RELEASE_MODULE.write_text(RELEASE_MODULE.read_text().split("\nRELEASED_VERSION")[0] + (
        f'\nRELEASED_VERSION = "{version}"\nRELEASED_DIGEST = "{digest(doc)}"\n'))
    text = CHANGELOG.read_text() if CHANGELOG.exists() else f"# Contract changelog\n\n{UNRELEASED}\n"
    if _UNRELEASED_LINE.search(text) is None:
        text = text.rstrip("\n") + f"\n\n{UNRELEASED}\n"
    if not re.search(rf"^## {re.escape(version)} ", text, re.M):  # released again: the heading is there
        text = _UNRELEASED_LINE.sub(f"{UNRELEASED}\n\n## {version} ({dt.date.today()})", text, count=1)
    CHANGELOG.write_text(text)
    return [RELEASED_DOC, RELEASE_MODULE, CHANGELOG]
