"""Live subscribers: WebSocket clients of ``/live`` (the ``websockets`` library) that record every frame.

Each subscriber keeps one socket to an api process and, when it breaks (a killed or paused api, a slow-
consumer close), reconnects to the next one and resubscribes with ``since`` = the last (epoch, seq) it
holds, as the protocol asks. It records every frame it receives (and every reconnect) for the checker,
and holds the latest value per (product, night) of the availability channel and the latest status of
each booking it watches, to be compared with PostgreSQL once the faults stop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

MAX_WATCHED = 30  # booking channels per watcher (the server allows 32 subscriptions per connection)


@dataclass(slots=True)
class Frame:
    """One received frame as the checker needs it (``type`` ``connect`` marks a new socket)."""

    at: float
    subscriber: int
    type: str
    channel: str = ""
    epoch: str = ""
    seq: int = -1
    conflated: bool = False
    code: str = ""


@dataclass
class Subscriber:
    n: int
    apis: list[str]
    began: float
    token: Callable[[], Awaitable[str]] | None = None  # a bearer token (watchers of booking channels)
    availability: dict[str, tuple[str, str]] = field(default_factory=dict)  # channel -> (from, to)
    channels: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    positions: dict[str, tuple[str, int]] = field(default_factory=dict)  # channel -> (epoch, seq) held
    values: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (product, night) -> (free, v)
    statuses: dict[str, str | None] = field(default_factory=dict)  # booking id -> latest status
    reconnects: int = 0
    ws: ClientConnection | None = None
    _bearer: str = ""

    def watch(self, booking_id: str) -> bool:
        """Also follow ``booking:<id>`` (False when this watcher is full)."""
        channel = f"booking:{booking_id}"
        if self.token is None or len(self.channels) >= MAX_WATCHED or channel in self.channels:
            return False
        self.channels.append(channel)
        if self.ws is not None:
            asyncio.ensure_future(self._send_quietly(self._subscribe_op(channel)))
        return True

    async def run(self) -> None:
        """Until cancelled: connect, subscribe (resuming), record; reconnect on any break."""
        attempt = 0
        while True:
            url = self.apis[(self.n + attempt) % len(self.apis)].replace("http://", "ws://") + "/live"
            try:
                await self._session(url)
            except InvalidStatus as exc:
                self._failed(f"handshake {exc.response.status_code}")
                if exc.response.status_code in (401, 403) and self.token is not None:
                    self._bearer = ""  # Redis lost the session (a refused handshake is a 403): sign in again
            except (OSError, TimeoutError, WebSocketException, asyncio.IncompleteReadError) as exc:
                self._failed(type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - a frame this client cannot read: recorded, reconnect
                self.frames.append(Frame(self._now(), self.n, "client_error", code=repr(exc)[:200]))
            finally:
                self.ws = None
            attempt += 1
            self.reconnects += 1
            await asyncio.sleep(0.3)

    async def _session(self, url: str) -> None:
        headers = {}
        if self.token is not None:
            self._bearer = self._bearer or await self.token()
            headers["Authorization"] = f"Bearer {self._bearer}"
        async with connect(url, additional_headers=headers, open_timeout=5, close_timeout=1, ping_interval=3,
                           ping_timeout=3, max_queue=None) as ws:
            self.frames.append(Frame(self._now(), self.n, "connect"))
            self.ws = ws
            for channel in [*self.availability, *self.channels]:
                await ws.send(self._subscribe_op(channel))
            async for raw in ws:
                self.on_frame(json.loads(raw))
            self.frames.append(Frame(self._now(), self.n, "closed", code=str(ws.close_code)))

    def _failed(self, why: str) -> None:
        self.frames.append(Frame(self._now(), self.n, "disconnected", code=why))

    def _subscribe_op(self, channel: str) -> str:
        op: dict[str, Any] = {"op": "subscribe", "channel": channel}
        if channel in self.availability:
            op["from"], op["to"] = self.availability[channel]
        if channel in self.positions:
            epoch, seq = self.positions[channel]
            op["since"] = {"epoch": epoch, "seq": seq}
        return json.dumps(op)

    async def _send_quietly(self, text: str) -> None:
        try:
            if self.ws is not None:
                await self.ws.send(text)
        except WebSocketException:
            pass  # the reconnect resubscribes

    def _now(self) -> float:
        return time.monotonic() - self.began

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind, channel = frame.get("type", ""), frame.get("channel", "")
        data = frame.get("data") or {}
        self.frames.append(Frame(self._now(), self.n, kind, channel, frame.get("epoch", ""), frame.get("seq", -1),
                                 bool(isinstance(data, dict) and data.get("conflated")), frame.get("code", "")))
        if kind not in ("snapshot", "update"):
            return
        self.positions[channel] = (frame["epoch"], frame["seq"])
        if channel.startswith("availability:"):
            if kind == "snapshot":
                self.values = {}
            for item in data.get("items", []):
                key = (item["product_id"], item["night"])
                old = self.values.get(key)
                if old is None or item["version"] >= old[1]:
                    self.values[key] = (item["free"], item["version"])
        elif channel.startswith("booking:") and "status" in data:
            self.statuses[channel.split(":", 1)[1]] = data["status"]


class Watchers:
    """Hands each acknowledged booking to a watcher with room left (the first ones, up to their limit)."""

    def __init__(self, watchers: list[Subscriber]) -> None:
        self.watchers = watchers

    def booked(self, booking_id: str) -> None:
        for watcher in self.watchers:
            if watcher.watch(booking_id):
                return


def gaps(frames: list[Frame]) -> list[str]:
    """Per subscriber and channel: every update follows the position the subscriber holds (same epoch,
    seq + 1, or a later seq in a merged ``conflated`` update); anything else is a gap (or a repeat) it was
    not told about. A snapshot (after a resubscription or a server-side resync) is being told."""
    held: dict[tuple[int, str], tuple[str, int]] = {}
    found: list[str] = []
    for f in frames:
        key = (f.subscriber, f.channel)
        if f.type == "snapshot":
            held[key] = (f.epoch, f.seq)
        elif f.type == "update":
            position = held.get(key)
            fits = position is not None and f.epoch == position[0] and (
                f.seq == position[1] + 1 or (f.conflated and f.seq > position[1]))
            if not fits:
                found.append(f"live subscriber {f.subscriber} on {f.channel} at {f.at:.1f} s: update "
                             f"{f.epoch}/{f.seq} after {position} with no snapshot between")
            held[key] = (f.epoch, f.seq)
    return found
