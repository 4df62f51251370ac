"""Idempotency keys as plain rules (IETF draft-ietf-httpapi-idempotency-key-header): parse, fingerprint.

No I/O: :mod:`app.idempotency.store` keeps the records, :mod:`app.idempotency.http` wires them to routes.
"""

from __future__ import annotations

import hashlib
import re

import msgspec

HEADER = "Idempotency-Key"
MAX_LENGTH = 255
# The draft's value is a structured-field string ("..."); a bare token is accepted too. Printable ASCII
# without spaces or quotes inside, 1-255 characters (Stripe's limit).
_KEY = re.compile(r'^[!#-~]{1,255}$')
# How the OpenAPI document describes the header (app.problem_docs, ``opt={"headers": ...}``): the key,
# optionally quoted, optionally surrounded by spaces (as parse_key reads it).
OPENAPI_HEADER = {HEADER: {
    "required": True, "pattern": r'^\s*([!#-~]{1,255}|"[!#-~]{1,255}")\s*$',
    "description": "1-255 printable ASCII characters without spaces or quotes; a retry repeats it"}}


class KeyError_(ValueError):
    """A missing or malformed key; ``code`` is the stable error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_key(raw: str | None) -> str:
    """The key of the header value; raises :class:`KeyError_` when it is missing or malformed."""
    if raw is None or raw == "":
        raise KeyError_("idempotency_key_missing", f"this operation needs an {HEADER} header")
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _KEY.fullmatch(value):
        raise KeyError_("idempotency_key_invalid",
                        f"{HEADER} must be 1-{MAX_LENGTH} printable ASCII characters without spaces or quotes")
    return value


def fingerprint(operation: str, body: bytes) -> bytes:
    """What makes two requests "the same": the operation and the body, JSON made canonical (key order
    and whitespace do not matter), anything else compared byte for byte."""
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted") if body else b""
    except msgspec.DecodeError:
        canonical = body
    return hashlib.sha256(operation.encode() + b"\n" + canonical).digest()
