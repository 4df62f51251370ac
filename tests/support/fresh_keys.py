"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``) for the links test: every request that carries an
``Idempotency-Key`` gets a fresh one, as a client does for a new request. Generated keys repeat (a short
key is the simplest example), and a repeated key replays the first answer instead of holding or booking."""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
