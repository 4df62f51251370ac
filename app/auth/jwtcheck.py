"""Pure JWT checks shared by every token the app accepts: header policy and registered claims.

No I/O and no key material here: the callers verify the signature with a key they chose by ``kid``
from a trusted source, never from the token itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Iterable
from typing import Any

# Headers that would let the token name its own verification key: never trusted, always refused.
KEY_BEARING_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})


class TokenRejected(Exception):
    """The token is refused; ``reason`` is a short stable word for logs, metrics and audit."""

    def __init__(self, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


def _b64json(segment: str) -> dict[str, Any]:
    try:
        padded = segment + "=" * (-len(segment) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise TokenRejected("malformed") from exc
    if not isinstance(value, dict):
        raise TokenRejected("malformed")
    return value


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and claims of a compact JWS (for routing and policy checks only)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise TokenRejected("malformed")
    return _b64json(parts[0]), _b64json(parts[1])


def check_header(header: dict[str, Any], allowed_algs: Collection[str], typ: str | None = None) -> str:
    """Refuse disallowed algorithms (exact, case-sensitive match), key-bearing headers, a missing
    ``kid``, ``crit`` and a wrong ``typ``. Returns the ``kid``."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed_algs:
        raise TokenRejected("alg_not_allowed")
    if KEY_BEARING_HEADERS & header.keys():
        raise TokenRejected("key_header_refused")
    if "crit" in header:
        raise TokenRejected("crit_header_refused")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("missing_kid")
    if typ is not None and str(header.get("typ", "")).lower() not in {typ, f"application/{typ}"}:
        raise TokenRejected("wrong_type")
    return kid


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return aud
    return []


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"malformed_{name}")
    return float(value)


def check_claims(
    claims: dict[str, Any],
    *,
    issuer: str,
    audience: str,
    now: float,
    leeway: int = 60,
    required: Iterable[str] = ("iss", "aud", "sub", "exp", "iat"),
    max_iat_skew: int | None = None,
) -> None:
    """Registered claims: presence, ``iss`` and ``aud`` exact, ``exp``/``nbf``/``iat`` against ``now``."""
    for name in required:
        if claims.get(name) in (None, ""):
            raise TokenRejected(f"missing_{name}")
    if claims.get("iss") != issuer:
        raise TokenRejected("wrong_issuer")
    if audience not in _audiences(claims):
        raise TokenRejected("wrong_audience")
    exp = _number(claims, "exp")
    if exp is not None and now > exp + leeway:
        raise TokenRejected("expired", expired=True)
    nbf = _number(claims, "nbf")
    if nbf is not None and now + leeway < nbf:
        raise TokenRejected("not_yet_valid")
    iat = _number(claims, "iat")
    if iat is not None and now + (leeway if max_iat_skew is None else max_iat_skew) < iat:
        raise TokenRejected("issued_in_future")


def scopes_of(claims: dict[str, Any]) -> tuple[str, ...]:
    """``scope`` (space-separated, RFC 9068) or ``scp`` (a list) as a tuple."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return tuple(s for s in scope.split() if s)
    scp = claims.get("scp")
    if isinstance(scp, list):
        return tuple(str(s) for s in scp)
    return ()
