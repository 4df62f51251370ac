"""One /live connection's protocol: auth, subscribe (snapshot or resume), unsubscribe, ping, expiry.

Subscribing reads the channel's position, then the snapshot (or, with ``since`` in the same epoch,
nothing), attaches to the channel's reader, then reads the entries after the position: the reader's
entries arriving meanwhile wait in the subscription's backlog, so the handover has no gap and no
duplicate (entries are ordered and deduplicated by seq).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import msgspec
import structlog

from app.auth.gateway import authenticate
from app.auth.jwtcheck import TokenRejected
from app.auth.principal import Principal
from realtime.access import Refused, authorize
from realtime.bounds import Bucket
from realtime.channels import (
    CLOSE_AUTH_TIMEOUT,
    CLOSE_FRAME_TOO_LARGE,
    CLOSE_RATE_LIMITED,
    CLOSE_TOKEN_EXPIRED,
    PONG,
    Channel,
    error_frame,
    parse_channel,
    reauth_frame,
    snapshot_frame,
    update_frame,
)
from realtime.connection import Connection, Subscription
from realtime.metrics import SUBSCRIPTIONS
from realtime.service import LiveService
from realtime.snapshots import Snapshot
from realtime.store import Entry

log = structlog.get_logger("realtime.session")
_decode = msgspec.json.decode
_encode = msgspec.json.encode


class Invalid(Exception):
    def __init__(self, code: str, detail: str, channel: str | None = None) -> None:
        super().__init__(detail)
        self.frame = error_frame(code, detail, channel)


def _range(msg: dict[str, Any], max_days: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The nights of an availability subscription; ``from`` defaults to ``today`` at the resort."""
    try:
        start = dt.date.fromisoformat(msg["from"]) if msg.get("from") is not None else today
        end = dt.date.fromisoformat(msg["to"]) if msg.get("to") is not None else start + dt.timedelta(days=14)
    except (TypeError, ValueError):
        raise Invalid("bad_range", "from and to must be dates (YYYY-MM-DD).", msg.get("channel")) from None
    if not start < end or (end - start).days > max_days or start < today - dt.timedelta(days=1):
        raise Invalid("bad_range", f"Need from < to, at most {max_days} nights, not in the past.",
                      msg.get("channel"))
    return start, end


def _since(msg: dict[str, Any]) -> tuple[str, int] | None:
    since = msg.get("since")
    if since is None:
        return None
    if (not isinstance(since, dict) or not isinstance(since.get("epoch"), str)
            or type(since.get("seq")) is not int or since["seq"] < 0):
        raise Invalid("bad_since", "since must be {\"epoch\": string, \"seq\": integer >= 0}.", msg.get("channel"))
    return since["epoch"], since["seq"]


def seat_of(principal: Principal) -> str:
    """The key a caller's connections are counted under (live_connections_per_subject)."""
    return f"{principal.kind}:{principal.subject}"


class LiveSession:
    def __init__(self, service: LiveService, conn: Connection, principal: Principal | None,
                 seated: bool = False) -> None:
        """``seated``: the handshake took (and gives back) the principal's seat in ``service.per_subject``;
        otherwise the session takes one at its first ``auth`` and gives it back at its end."""
        self.service = service
        self.bounds = bounds = service.bounds
        self.conn = conn
        self.principal: Principal | None = None
        self.seat: str | None = seat_of(principal) if principal is not None and seated else None
        self.own_seat = False
        self.timers: list[asyncio.TimerHandle] = []
        self.ended = False
        self.attaching = 0  # subscribes under way
        self.frames = Bucket(bounds.frames_per_s, bounds.frames_burst)
        self.subscribes = Bucket(bounds.subscribes_per_s, bounds.subscribes_burst)
        conn.on_resync = self._resync
        if principal is not None:
            self._signed_in(principal)
        else:
            self.timers.append(asyncio.get_running_loop().call_later(bounds.auth_timeout_s, self._auth_deadline))

    # -- lifecycle --------------------------------------------------------------------------------
    def _auth_deadline(self) -> None:
        if self.principal is not None or self.conn.subs:
            return
        if self.attaching:  # a subscribe still on its way (its snapshot): judged once more after it
            self.timers.append(asyncio.get_running_loop().call_later(self.bounds.auth_timeout_s, self._auth_deadline))
            return
        self.conn.close(CLOSE_AUTH_TIMEOUT, "auth_timeout")

    def _signed_in(self, principal: Principal) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        self.service.hub.untrack(self.principal.session_id if self.principal else None, self.conn)
        self.principal = principal
        self.service.hub.track(principal.session_id, self.conn)
        left = principal.expires_at - time.time()
        loop = asyncio.get_running_loop()
        before = min(self.service.settings.live_reauth_before_s, max(left / 2, 0))
        self.timers.append(loop.call_later(max(left - before, 0), self._reauth))
        self.timers.append(loop.call_later(max(left, 0), self.conn.close, CLOSE_TOKEN_EXPIRED, "token_expired"))

    def _reauth(self) -> None:
        if self.principal is not None:
            self.conn.push(reauth_frame(max(int(self.principal.expires_at - time.time()), 0)))

    def end(self) -> None:
        self.ended = True
        for timer in self.timers:
            timer.cancel()
        if self.seat is not None and self.own_seat:
            self.service.per_subject.give_back(self.seat)
            self.seat = None
        self.service.hub.untrack(self.principal.session_id if self.principal else None, self.conn)
        for sub in list(self.conn.subs.values()):
            self._detach(sub)

    # -- frames -----------------------------------------------------------------------------------
    async def on_text(self, text: str) -> None:
        bounds = self.bounds
        if self.conn.closing is not None:
            return
        if len(text) > bounds.max_frame_bytes or len(text.encode()) > bounds.max_frame_bytes:
            self.conn.close(CLOSE_FRAME_TOO_LARGE, "frame_too_large")
            return
        if not self.frames.take():
            self.conn.close(CLOSE_RATE_LIMITED, "rate_limited")
            return
        try:
            try:
                msg = _decode(text)
            except msgspec.DecodeError:
                raise Invalid("malformed", "Frames are JSON objects with an op.") from None
            if not isinstance(msg, dict):
                raise Invalid("malformed", "Frames are JSON objects with an op.")
            await self._dispatch(msg)
        except Invalid as exc:
            self.conn.push(exc.frame)

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        if op in ("subscribe", "unsubscribe") and not self.subscribes.take():
            self.conn.close(CLOSE_RATE_LIMITED, "rate_limited")
            return
        if op == "ping":
            self.conn.push(PONG)
        elif op == "subscribe":
            await self._subscribe(msg)
        elif op == "unsubscribe":
            sub = self.conn.subs.get(msg.get("channel"))  # type: ignore[arg-type]
            if sub is None:
                raise Invalid("not_subscribed", "No such subscription.", msg.get("channel"))
            self._detach(sub)
            if not self.conn.subs and self.principal is None:  # idle again: the deadline holds again
                self.timers.append(asyncio.get_running_loop().call_later(self.bounds.auth_timeout_s,
                                                                          self._auth_deadline))
        elif op == "auth":
            await self._auth(msg.get("token"))
        else:
            raise Invalid("unknown_op", "op must be auth, subscribe, unsubscribe or ping.")

    async def _auth(self, token: Any) -> None:
        if not isinstance(token, str) or not token:
            raise Invalid("malformed", "The auth op needs a token.")
        try:
            principal = await authenticate(self.service.auth, token, {"type": "websocket", "headers": []}, False)
        except TokenRejected as exc:
            code = "token_expired" if exc.expired else "session_ended" if exc.reason == "session_ended" \
                else "invalid_token"
            raise Invalid(code, f"The token was refused ({exc.reason}).") from None
        if self.principal is not None and (principal.kind, principal.subject) != (
                self.principal.kind, self.principal.subject):
            raise Invalid("subject_mismatch", "A renewed token must be for the same caller.")
        if self.seat is None:
            if not self.service.per_subject.take(seat_of(principal)):
                raise Invalid("too_many_connections",
                              f"At most {self.bounds.connections_per_subject} connections per caller.")
            self.seat, self.own_seat = seat_of(principal), True
        self._signed_in(principal)
        await self._recheck()

    async def _recheck(self) -> None:
        """Every open subscription against the renewed token: one it no longer allows ends, with a frame
        that says why."""
        for sub in list(self.conn.subs.values()):
            channel = parse_channel(sub.channel)
            assert channel is not None
            try:
                await authorize(self.service.redis, self.service.db, channel, self.principal)
            except Refused as exc:
                if self.conn.subs.get(sub.channel) is sub:
                    self._detach(sub)
                    self.conn.push(error_frame("subscription_ended", "The renewed token does not allow this "
                                               f"channel ({exc.code}): {exc.detail}", sub.channel))

    # -- subscriptions ----------------------------------------------------------------------------
    async def _subscribe(self, msg: dict[str, Any]) -> None:
        channel = parse_channel(msg.get("channel"))
        if channel is None:
            raise Invalid("unknown_channel", "Channels: availability:<property>, booking:<id>, frontdesk:<property>.")
        if channel.name in self.conn.subs:
            raise Invalid("already_subscribed", "Already subscribed.", channel.name)
        if len(self.conn.subs) >= self.bounds.max_channels:
            raise Invalid("too_many_subscriptions", f"At most {self.bounds.max_channels} per connection.",
                          channel.name)
        params: dict[str, Any] = {}
        if channel.kind == "availability":
            today = await self.service.resort_today(channel.key)
            params["range"] = _range(msg, self.service.settings.live_max_range_days, today)
        since = _since(msg)
        try:
            await authorize(self.service.redis, self.service.db, channel, self.principal)
        except Refused as exc:
            raise Invalid(exc.code, exc.detail, channel.name) from None
        if channel.kind != "booking" and not await self.service.property_exists(channel.key):
            raise Invalid("unknown_channel", "No such property.", channel.name)
        self.attaching += 1
        try:
            await self._attach(channel, params, since)
        finally:
            self.attaching -= 1

    async def _resync(self, sub: Subscription) -> None:
        """A fresh snapshot for ``sub``; retried while Redis or PostgreSQL cannot answer (a failed attempt
        must not leave the subscriber detached and never told)."""
        if self.conn.subs.get(sub.channel) is not sub:
            return
        self._detach(sub)
        channel = parse_channel(sub.channel)
        assert channel is not None
        delay = 0.1
        while not self.ended and self.conn.closing is None and sub.channel not in self.conn.subs:
            try:
                await authorize(self.service.redis, self.service.db, channel, self.principal)  # rights may have changed
                await self._attach(channel, sub.params, None)
                return
            except Refused as exc:
                self.conn.push(error_frame("subscription_ended", exc.detail, sub.channel))
                return
            except Invalid as exc:
                self.conn.push(exc.frame)
                return
            except Exception as exc:  # noqa: BLE001 - a store unreachable: try again
                log.warning("live_resync_retry", channel=sub.channel, error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _attach(self, channel: Channel, params: dict[str, Any], since: tuple[str, int] | None,
                      attempts: int = 3) -> None:
        name, store, bounds = channel.name, self.service.store, self.bounds
        snapshot: Snapshot | None = None
        epoch, seq = await store.position(name)
        newest = seq
        if since is None or since[0] != epoch or since[1] > seq or seq - since[1] > bounds.buffer_frames:
            snapshot = await self.service.snapshot(channel, params)
            if snapshot is None:
                raise Invalid("unknown_channel", "No such property.", name)
            epoch, seq = snapshot.epoch, snapshot.seq
        else:
            seq = since[1]
        sub = Subscription(self.conn, name, channel.kind, epoch, seq, params)
        self.conn.subs[name] = sub
        SUBSCRIPTIONS.labels(channel.kind).inc()
        try:
            reader = await self.service.hub.add(sub)
            entries = await store.after(name, seq, count=bounds.buffer_frames + 1)
        except BaseException:
            self._detach(sub)  # never left half attached, its updates piling up in a backlog
            raise
        if self.conn.subs.get(name) is not sub:  # unsubscribed or closed meanwhile
            return
        lost = reader.epoch != epoch
        trimmed = entries[0].seq != seq + 1 if entries else newest > seq
        # A catch-up larger than the connection's buffer is replaced by a snapshot (so is a resume's).
        too_much = len(entries) > bounds.buffer_frames or sum(len(e.data) for e in entries) > bounds.buffer_bytes
        if (lost or trimmed or too_much) and attempts > 1:
            self._detach(sub)
            await self._attach(channel, params, None, attempts - 1)
            return
        if snapshot is not None:
            self.conn.push(snapshot_frame(name, epoch, seq, snapshot.data))
        sub.catching_up = False
        for entry in entries:
            self.conn.offer(sub, self._fresh(sub, entry, snapshot))
        backlog, sub.backlog = sub.backlog, []
        for entry in backlog:
            self.conn.offer(sub, entry)
        if sub.overflowed:  # more arrived while catching up than the buffer holds: start again from a snapshot
            sub.overflowed = False
            self.conn.resync(sub)

    def _fresh(self, sub: Subscription, entry: Entry, snapshot: Snapshot | None) -> Entry:
        """A caught-up entry framed for this subscriber, without availability items the snapshot already
        had (same or newer per-night version)."""
        data = entry.data
        if snapshot is not None and snapshot.versions:
            body = _decode(data)
            items = [i for i in body.get("items", [])
                     if i["version"] > snapshot.versions.get((i["product_id"], i["night"]), -1)]
            if len(items) != len(body.get("items", [])):
                data = _encode(body | {"items": items})
        return Entry(entry.seq, data, entry.t, update_frame(sub.channel, sub.epoch, entry.seq, data))

    def _detach(self, sub: Subscription) -> None:
        if self.conn.subs.get(sub.channel) is sub:
            del self.conn.subs[sub.channel]
            SUBSCRIPTIONS.labels(sub.kind).dec()
        self.service.hub.remove(sub)
