"""Pure checks of what the IdP sends back: ID token extras (nonce, azp) and back-channel logout tokens."""

from __future__ import annotations

import hmac
from typing import Any

from app.auth.jwtcheck import TokenRejected

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def check_id_token(claims: dict[str, Any], *, nonce: str, client_id: str) -> None:
    """After signature, iss, aud and time: the nonce we stored, and ``azp`` when there are several audiences."""
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, nonce):
        raise TokenRejected("wrong_nonce")
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise TokenRejected("wrong_azp")
    if "azp" in claims and claims["azp"] != client_id:
        raise TokenRejected("wrong_azp")


def check_logout_token(header: dict[str, Any], claims: dict[str, Any]) -> tuple[str | None, str | None]:
    """OIDC Back-Channel Logout 1.0 §2.6 after signature, iss, aud and iat: the event, sid and/or sub,
    no nonce, and ``typ`` logout+jwt when given. Returns (sid, sub)."""
    typ = header.get("typ")
    if typ is not None and str(typ).lower() not in {"logout+jwt", "application/logout+jwt"}:
        raise TokenRejected("wrong_type")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise TokenRejected("missing_logout_event")
    if "nonce" in claims:
        raise TokenRejected("nonce_in_logout_token")
    sid, sub = claims.get("sid"), claims.get("sub")
    sid = sid if isinstance(sid, str) and sid else None
    sub = sub if isinstance(sub, str) and sub else None
    if sid is None and sub is None:
        raise TokenRejected("missing_sid_and_sub")
    if not isinstance(claims.get("jti"), str):
        raise TokenRejected("missing_jti")
    return sid, sub


def safe_return_path(value: str | None) -> str:
    """Only a local absolute path (no scheme, no host, no ``//``, no control characters): never an open
    redirect, never a split header."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ch < " " or ch == "\x7f" for ch in value):
        return "/"
    return value
