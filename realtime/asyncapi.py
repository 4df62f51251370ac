"""The /live protocol as an AsyncAPI 3.0 document, served at ``/asyncapi.json`` (public)."""

from __future__ import annotations

from typing import Any

from litestar import get

from app.settings import Settings
from realtime.bounds import Bounds
from realtime.channels import CLOSE_CODES

# Each bound of a connection, what breaking it does (the values are the server's settings, below).
BOUNDS = {
    "RESORT_LIVE_BUFFER_FRAMES": "outbound backlog per connection in frames, catch-up and control frames "
    "included: past it availability is conflated, other channels close 4008; a resume whose gap is larger "
    "gets a snapshot instead of the missed updates",
    "RESORT_LIVE_BUFFER_BYTES": "the same backlog in bytes (same answers)",
    "RESORT_LIVE_SEND_TIMEOUT_S": "seconds one frame write may stay blocked (the client reads nothing): close 4008",
    "RESORT_LIVE_AUTH_TIMEOUT_S": "seconds a socket has to authenticate or subscribe: close 4001",
    "RESORT_LIVE_MAX_CHANNELS": "subscriptions per connection: error too_many_subscriptions",
    "RESORT_LIVE_SUBSCRIBES_PER_S": "subscribe + unsubscribe requests per second per connection: close 4029",
    "RESORT_LIVE_SUBSCRIBES_BURST": "... allowed at once",
    "RESORT_LIVE_FRAMES_PER_S": "frames of any kind per second per connection: close 4029",
    "RESORT_LIVE_FRAMES_BURST": "... allowed at once",
    "RESORT_LIVE_MAX_FRAME_BYTES": "bytes of one client frame: close 1009",
    "RESORT_LIVE_CONNECTIONS_PER_IP": "open sockets per client address, per api process: handshake refused "
    "with HTTP 429 too_many_connections",
    "RESORT_LIVE_CONNECTIONS_PER_SUBJECT": "open sockets per caller, per api process: handshake refused with "
    "HTTP 429 too_many_connections (in-band auth: error too_many_connections)",
}

_STR, _INT = {"type": "string"}, {"type": "integer", "minimum": 0}
_CHANNEL = {"type": "string", "pattern": "^(availability|booking|frontdesk):[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
            "examples": ["availability:jeju-seaside", "booking:7d1f6c1e", "frontdesk:jeju-seaside"]}
_DATE = {"type": "string", "format": "date"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _message(name: str, summary: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "title": name, "summary": summary, "contentType": "application/json",
            "payload": payload}


_ITEM = _obj(["product_id", "night", "free", "price", "version"], product_id=_STR, night=_DATE,
             free={"type": "integer", "description": "units available"},
             price={"type": ["integer", "null"], "description": "lowest open nightly amount (minor unit)"},
             min_stay={"type": ["integer", "null"], "description": "that price's minimum stay (nights)"},
             closed_to_arrival={"type": ["boolean", "null"], "description": "that price allows no arrival"},
             version={"type": "integer", "description": "per (product, night): keep the highest (grows with the "
                      "count and with the price or its restrictions)"})

CLIENT_MESSAGES = {
    "auth": _message("auth", "Authenticate (apps) or renew in-band before expiry (keeps every sequence)",
                     _obj(["op", "token"], op={"const": "auth"}, token=_STR)),
    "subscribe": _message(
        "subscribe", "Subscribe; with `since` inside retention and the same epoch, only the missed updates "
        "follow (no snapshot); otherwise a snapshot then updates",
        _obj(["op", "channel"], op={"const": "subscribe"}, channel=_CHANNEL,
             **{"from": _DATE | {"description": "availability: first night (default today)"},
                "to": _DATE | {"description": "availability: end, exclusive (default from + 14, at most 62)"},
                "since": _obj(["epoch", "seq"], epoch=_STR, seq=_INT)})),
    "unsubscribe": _message("unsubscribe", "Stop a subscription",
                            _obj(["op", "channel"], op={"const": "unsubscribe"}, channel=_CHANNEL)),
    "ping": _message("ping", "Liveness check: answered by pong", _obj(["op"], op={"const": "ping"})),
}
SERVER_MESSAGES = {
    "snapshot": _message(
        "snapshot", "The channel's state at (epoch, seq): every later change follows as an update",
        _obj(["type", "channel", "epoch", "seq", "data"], type={"const": "snapshot"}, channel=_CHANNEL,
             epoch=_STR, seq=_INT, data={"oneOf": [
                 _obj(["property_id", "from", "to", "products", "items"], items={"type": "array", "items": _ITEM}),
                 _obj(["booking_id", "status"], status={"type": ["string", "null"]}),
                 _obj(["arrivals", "departures", "in_house", "occupancy", "feed"])]})),
    "update": _message(
        "update", "One change, seq consecutive per channel. Availability updates carry every changed night "
        "of the property (clients ignore nights outside their range); a slow client gets one merged "
        "update (`conflated: true`) carrying the seq of the newest change merged",
        _obj(["type", "channel", "epoch", "seq", "data"], type={"const": "update"}, channel=_CHANNEL,
             epoch=_STR, seq=_INT, data={"type": "object"})),
    "reauth": _message("reauth", "The token expires in expires_in seconds: send a fresh one with the auth op",
                       _obj(["type", "expires_in"], type={"const": "reauth"}, expires_in=_INT)),
    "error": _message("error", "A refused frame (the connection stays open), or a subscription ended "
                      "(`subscription_ended`: a renewed token no longer allows its channel)",
                      _obj(["type", "code", "detail"], type={"const": "error"}, detail=_STR, channel=_CHANNEL,
                           code={"enum": ["malformed", "frame_too_large", "unknown_op", "unknown_channel",
                                          "bad_range", "bad_since", "already_subscribed", "not_subscribed",
                                          "too_many_subscriptions", "auth_required", "forbidden",
                                          "invalid_token", "token_expired", "session_ended",
                                          "subject_mismatch", "too_many_connections",
                                          "subscription_ended"]})),
    "pong": _message("pong", "Answer to ping", _obj(["type"], type={"const": "pong"})),
    "reconnect": _message(
        "reconnect", "This api process is stopping (close 1012 follows): reconnect, and resubscribe each channel "
        "with its since, the position of the last update this socket was sent (a channel missing from resume: "
        "subscribe afresh)",
        _obj(["type", "reason", "resume"], type={"const": "reconnect"}, reason={"const": "server_restarting"},
             resume={"type": "array", "items": _obj(["channel", "since"], channel=_CHANNEL,
                                                    since=_obj(["epoch", "seq"], epoch=_STR, seq=_INT))})),
}


def document(settings: Settings) -> dict[str, Any]:
    host = settings.public_url.split("://", 1)[-1]
    closes = "; ".join(f"{code} {name}" for code, name in sorted(CLOSE_CODES.items()))
    values = Bounds.of(settings).table()
    bounds = "; ".join(f"{name}={values[name]}: {what}" for name, what in BOUNDS.items())
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "G Resort live updates", "version": "1.0.0", "description": (
            "One WebSocket, JSON text frames. Channels: availability:<property_id> (anyone), booking:<id> "
            "(its guest, the partner who made it, front desk, admin), frontdesk:<property_id> (front desk, "
            "admin). Browsers authenticate by their session cookie (the handshake's Origin must be a "
            "configured origin), apps by the auth op within a few seconds. A renewed token re-checks every "
            "subscription. Close codes: " + closes + ". Bounds (server settings): " + bounds + "."),
            "x-bounds": {name: {"value": values[name], "when broken": what} for name, what in BOUNDS.items()}},
        "servers": {"api": {"host": host, "protocol": "wss" if settings.public_url.startswith("https") else "ws",
                            "pathname": "/live"}},
        "channels": {"live": {"address": "/live", "messages": {**CLIENT_MESSAGES, **SERVER_MESSAGES}}},
        "operations": {
            **{f"send_{name}": {"action": "receive", "channel": {"$ref": "#/channels/live"},
                                "messages": [{"$ref": f"#/channels/live/messages/{name}"}]}
               for name in CLIENT_MESSAGES},
            **{f"receive_{name}": {"action": "send", "channel": {"$ref": "#/channels/live"},
                                   "messages": [{"$ref": f"#/channels/live/messages/{name}"}]}
               for name in SERVER_MESSAGES},
        },
    }


@get("/asyncapi.json", opt={"public": True}, include_in_schema=False, sync_to_thread=False)
def asyncapi(settings: Settings) -> dict[str, Any]:
    return document(settings)
