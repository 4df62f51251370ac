"""The document's version changes whenever the contract does.

``info.version`` is the last released version (``app.contract.release``) when the document is that
release's, byte for byte, and otherwise that version plus the digest of the document as it is
(``0.1.0+5f2c81a0d3e4``): two documents with the same version are the same contract. A release
(``python -m app.contract release X.Y.Z``) records the document, its digest and its changelog heading.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from litestar import Litestar

from app.contract.release import RELEASED_DIGEST, RELEASED_VERSION


def digest(doc: dict[str, Any]) -> str:
    """The contract's fingerprint: the document without its version, keys sorted."""
    info = {k: v for k, v in doc.get("info", {}).items() if k != "version"}
    canonical = json.dumps({**doc, "info": info}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_of(doc: dict[str, Any]) -> str:
    current = digest(doc)
    return RELEASED_VERSION if current == RELEASED_DIGEST else f"{RELEASED_VERSION}+{current[:12]}"


def stamp_version(app: Litestar) -> None:
    """Start-up, after the document is finished (``app.problem_docs.document_api``)."""
    openapi = app.openapi_schema
    openapi.info.version = version_of(openapi.to_schema())
