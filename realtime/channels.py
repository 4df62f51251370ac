"""Channel names, their Redis keys, and the frames the server sends (each encoded once).

Channels: ``availability:<property_id>``, ``booking:<booking_id>``, ``frontdesk:<property_id>``.
Per channel, Redis holds a stream ``rt:stream:<channel>`` (entry id ``<seq>-0``, field ``d`` the data JSON,
field ``t`` the event's time in ms) and a hash ``rt:meta:<channel>`` (``epoch``, ``seq``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import msgspec

Kind = Literal["availability", "booking", "frontdesk"]
KINDS: tuple[Kind, ...] = ("availability", "booking", "frontdesk")
_NAME = re.compile(r"^(availability|booking|frontdesk):([A-Za-z0-9][A-Za-z0-9_-]{0,63})$")
_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class Channel:
    kind: Kind
    key: str  # the property id or the booking id

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def conflatable(self) -> bool:
        return self.kind == "availability"


def parse_channel(name: object) -> Channel | None:
    if not isinstance(name, str):
        return None
    match = _NAME.match(name)
    return Channel(match.group(1), match.group(2)) if match else None  # type: ignore[arg-type]


def stream_key(channel: str) -> str:
    return f"rt:stream:{channel}"


def meta_key(channel: str) -> str:
    return f"rt:meta:{channel}"


def seen_key(event_id: str) -> str:
    return f"rt:seen:{event_id}"


def versions_key(property_id: str) -> str:
    """Per (product, night) the highest inventory version published for the property."""
    return f"rt:versions:{property_id}"


def booking_key(booking_id: str) -> str:
    """Owner and latest status of a booking, as the publisher saw them in booking events."""
    return f"rt:booking:{booking_id}"


def update_frame(channel: str, epoch: str, seq: int, data: bytes) -> str:
    """An ``update`` frame around already-encoded data (no re-encoding of the data)."""
    return f'{{"type":"update","channel":"{channel}","epoch":"{epoch}","seq":{seq},"data":{data.decode()}}}'


def snapshot_frame(channel: str, epoch: str, seq: int, data: object) -> str:
    return _encode({"type": "snapshot", "channel": channel, "epoch": epoch, "seq": seq, "data": data}).decode()


def error_frame(code: str, detail: str, channel: str | None = None) -> str:
    frame: dict[str, object] = {"type": "error", "code": code, "detail": detail}
    if channel is not None:
        frame["channel"] = channel
    return _encode(frame).decode()


def reauth_frame(expires_in: int) -> str:
    return _encode({"type": "reauth", "expires_in": expires_in}).decode()


def reconnect_frame(resume: list[tuple[str, str, int]]) -> str:
    """The process is stopping: reconnect (another instance answers) and resubscribe each channel with
    ``since`` = its (epoch, seq) here, the last update this socket was sent: no gap, no duplicate."""
    return _encode({"type": "reconnect", "reason": "server_restarting", "resume": [
        {"channel": channel, "since": {"epoch": epoch, "seq": seq}} for channel, epoch, seq in resume]}).decode()


PONG = '{"type":"pong"}'

# Close codes (documented in the AsyncAPI document).
CLOSE_AUTH_TIMEOUT = 4001  # no session and no `auth` op within live_auth_timeout_s
CLOSE_TOKEN_EXPIRED = 4002  # the token expired and no fresh one came in-band
CLOSE_SESSION_ENDED = 4003  # logout, revocation or back-channel logout
CLOSE_SLOW_CONSUMER = 4008  # a non-conflatable channel overflowed the connection's buffer
CLOSE_RATE_LIMITED = 4029  # subscribe requests or frames faster than their bound
CLOSE_ORIGIN = 4403  # a cookie-authenticated handshake from a foreign Origin (before accept: HTTP 403)
CLOSE_SERVICE_RESTART = 1012  # the api process is stopping (after a `reconnect` frame): reconnect and resume
CLOSE_FRAME_TOO_LARGE = 1009  # a client frame larger than live_max_frame_bytes (WebSocket "message too big")
CLOSE_CODES = {
    CLOSE_AUTH_TIMEOUT: "auth_timeout", CLOSE_TOKEN_EXPIRED: "token_expired",
    CLOSE_SESSION_ENDED: "session_ended", CLOSE_SLOW_CONSUMER: "slow_consumer",
    CLOSE_RATE_LIMITED: "rate_limited", CLOSE_ORIGIN: "origin_refused", CLOSE_FRAME_TOO_LARGE: "frame_too_large",
    CLOSE_SERVICE_RESTART: "server_restarting",
}
