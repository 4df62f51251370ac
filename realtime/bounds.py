"""Every bound of a /live connection, from the settings, and the small counters that enforce them.

| bound (setting ``RESORT_…``) | broken | answer |
|---|---|---|
| ``LIVE_BUFFER_FRAMES`` / ``LIVE_BUFFER_BYTES`` outbound backlog, catch-up included | availability: conflated; other channels | close 4008 ``slow_consumer`` |
| the same, for a resume whose gap is larger | | a fresh snapshot instead of the missed updates |
| ``LIVE_SEND_TIMEOUT_S`` one frame write blocked (a client that reads nothing) | | close 4008 ``slow_consumer`` |
| ``LIVE_AUTH_TIMEOUT_S`` a socket neither authenticated nor subscribed | | close 4001 ``auth_timeout`` |
| ``LIVE_MAX_CHANNELS`` channels of one connection | | error frame ``too_many_subscriptions`` |
| ``LIVE_SUBSCRIBES_PER_S`` / ``_BURST`` subscribe + unsubscribe requests | | close 4029 ``rate_limited`` |
| ``LIVE_FRAMES_PER_S`` / ``_BURST`` every frame a client sends | | close 4029 ``rate_limited`` |
| ``LIVE_MAX_FRAME_BYTES`` one client frame | | close 1009 ``frame_too_large`` |
| ``LIVE_CONNECTIONS_PER_IP`` / ``_PER_SUBJECT`` open sockets, per api process | | handshake: HTTP 429 ``too_many_connections``; in-band auth: error frame |
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Bounds:
    buffer_frames: int = 256
    buffer_bytes: int = 1_048_576
    send_timeout_s: float = 30.0
    auth_timeout_s: float = 5.0
    max_channels: int = 32
    subscribes_per_s: float = 5.0
    subscribes_burst: int = 40
    frames_per_s: float = 20.0
    frames_burst: int = 60
    max_frame_bytes: int = 4096
    connections_per_ip: int = 500
    connections_per_subject: int = 16

    @classmethod
    def of(cls, settings: Settings) -> Bounds:
        return cls(**{name: getattr(settings, f"live_{name}") for name in cls.__dataclass_fields__})

    def table(self) -> dict[str, float]:
        """Every bound by its setting's name (the AsyncAPI document lists them)."""
        return {f"RESORT_LIVE_{name.upper()}": getattr(self, name) for name in self.__dataclass_fields__}


class Bucket:
    """A token bucket: ``rate`` per second sustained, ``burst`` at once."""

    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Seats:
    """Open connections by key (a client address, a subject) in this process, each at most ``limit``."""

    __slots__ = ("limit", "open")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def take(self, key: str) -> bool:
        if self.open[key] >= self.limit:
            return False
        self.open[key] += 1
        return True

    def give_back(self, key: str) -> None:
        self.open[key] -= 1
        if self.open[key] <= 0:
            del self.open[key]
