"""One socket's outbound side: frames written at once when the socket is idle, else a bounded backlog
drained by a writer task that exists only while there is a backlog.

Readers call :meth:`Connection.offer` synchronously. An idle socket gets the shared frame written in
the same call: its prepared bytes written to the transport (:mod:`realtime.wire`), or else the ASGI send driven
by hand (it completes without suspending while the transport is writable); a fan-out costs no task switch and
no per-subscriber encoding. A busy socket queues the :class:`Entry`; when
the queue is full (``live_buffer_frames`` frames or ``live_buffer_bytes`` bytes, control frames and catch-up
included), availability is conflated (the latest value per (product, night), sent as one frame
carrying the seq of the newest entry merged) and other channels close the socket with ``4008
slow_consumer`` (booking and front-desk updates are never conflated); so does a frame write blocked for
``live_send_timeout_s``. The entries that arrive while a subscription catches up wait in its backlog, bounded
by the same count: past it they are dropped and the subscription is resynced from a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog
from litestar.types import Send

from realtime.channels import CLOSE_CODES, CLOSE_SLOW_CONSUMER, update_frame
from realtime.metrics import CLOSED, CONFLATED, FRAMES_SENT, LATENCY, SLOW_CLOSED
from realtime.store import Entry

log = structlog.get_logger("realtime.connection")
_decode = msgspec.json.decode
_encode = msgspec.json.encode


@dataclass(eq=False, slots=True)
class Subscription:
    conn: Connection
    channel: str
    kind: str
    epoch: str = ""
    cursor: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    catching_up: bool = True
    backlog: list[Entry] = field(default_factory=list)
    overflowed: bool = False  # the backlog passed its bound while catching up: resync once caught up
    pending: dict[tuple[str, str], dict[str, Any]] | None = None  # conflated availability items
    pending_seq: int = 0


def _items(entry: Entry) -> list[dict[str, Any]]:
    if entry.parsed is None:
        entry.parsed = _decode(entry.data).get("items", [])
    return entry.parsed


class _Yield:
    """Hands a future that a hand-driven coroutine is waiting on to the running task."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return (yield self.value)


async def _finish(coro: Coroutine[Any, Any, Any], pending: Any) -> None:
    """Run to completion, inside the current task, a coroutine that suspended on ``pending``."""
    while True:
        try:
            value = await _Yield(pending)
        except BaseException as exc:  # noqa: BLE001 - cancellation and the like go into the coroutine
            try:
                pending = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            pending = coro.send(value)
        except StopIteration:
            return


class Connection:
    __slots__ = ("send", "direct", "limit", "max_bytes", "send_timeout", "queue", "queued_bytes", "subs", "closing",
                 "resyncs", "on_resync", "on_closed", "task", "_close_sent")

    def __init__(self, send: Send, limit: int, on_closed: Callable[[], None], max_bytes: int = 1 << 20,
                 send_timeout: float = 30.0, direct: Callable[[bytes], bool] | None = None) -> None:
        self.send = send
        self.direct = direct  # writes an entry's prepared frame to the socket if it can (realtime.wire)
        self.limit = limit
        self.max_bytes = max_bytes
        self.send_timeout = send_timeout
        self.queued_bytes = 0  # of the frames in the queue (a conflation marker counts 0: bounded by its keys)
        self.queue: deque[Entry | str | Subscription] = deque()
        self.subs: dict[str, Subscription] = {}
        self.closing: tuple[int, str] | None = None
        self.resyncs: set[Subscription] = set()
        self.on_resync: Any = None  # set by the session: coroutine function (subscription) -> None
        self.on_closed = on_closed  # the server closed the socket: end the connection's receive loop
        self.task: asyncio.Task[None] | None = None  # the writer, while there is a backlog
        self._close_sent = False

    # -- called by readers, synchronously --------------------------------------------------------
    def offer(self, sub: Subscription, entry: Entry) -> bool:
        """Deliver ``entry``; True if its frame was written to the socket in this call."""
        if sub.catching_up:
            if sub.overflowed:
                pass  # a snapshot follows the catch-up: nothing to keep
            elif len(sub.backlog) < self.limit:
                sub.backlog.append(entry)
            else:
                sub.backlog.clear()
                sub.overflowed = True
            return False
        if entry.epoch and entry.epoch != sub.epoch:  # a new epoch began: a snapshot first, never its entries
            self.resync(sub)
            return False
        seq = entry.seq
        if seq <= sub.cursor:
            return False
        if seq != sub.cursor + 1:
            self.resync(sub)
            return False
        sub.cursor = seq
        if sub.pending is not None:
            self._merge(sub, entry)
            return False
        if self.task is None and self.closing is None:
            direct = self.direct
            if direct is not None and entry.wire and direct(entry.wire):
                return True
            return self._write_now(entry.frame)
        if self._fits(len(entry.frame)):
            self.queue.append(entry)
            self.queued_bytes += len(entry.frame)
        elif sub.kind == "availability":
            sub.pending = {}
            self._merge(sub, entry)
            self.queue.append(sub)  # one marker per subscription: the queue exceeds its bound by at most that
        elif self.closing is None:
            SLOW_CLOSED.labels(sub.kind).inc()
            self.close(CLOSE_SLOW_CONSUMER, "slow_consumer")
        return False

    def _fits(self, size: int) -> bool:
        return len(self.queue) < self.limit and (self.queued_bytes + size <= self.max_bytes or not self.queue)

    def _write_now(self, text: str) -> bool:
        coro = self.send({"type": "websocket.send", "text": text})
        try:
            pending = coro.send(None)
        except StopIteration:
            return True
        except Exception:  # noqa: BLE001 - the client is gone: its receive loop ends the connection
            return False
        self.task = asyncio.create_task(self._writer(coro, pending))  # not writable: finish it there
        return False

    def _merge(self, sub: Subscription, entry: Entry) -> None:
        assert sub.pending is not None
        for item in _items(entry):
            key = (item["product_id"], item["night"])
            old = sub.pending.get(key)
            if old is None or item["version"] >= old["version"]:
                sub.pending[key] = item
        sub.pending_seq = entry.seq
        CONFLATED.inc()

    def _flush(self, sub: Subscription) -> str:
        items, sub.pending = list((sub.pending or {}).values()), None
        return update_frame(sub.channel, sub.epoch, sub.pending_seq,
                            _encode({"cause": "conflated", "conflated": True, "items": items}))

    def resync(self, sub: Subscription) -> None:
        """The channel's epoch changed (or we fell behind): resubscribe from a fresh snapshot."""
        if sub in self.resyncs or self.on_resync is None or self.closing:
            return
        self.resyncs.add(sub)
        task = asyncio.create_task(self.on_resync(sub))
        task.add_done_callback(lambda _: self.resyncs.discard(sub))

    # -- called by the session -------------------------------------------------------------------
    def push(self, frame: str) -> None:
        """A control frame (snapshot, error, pong, reauth), under the same bounds as updates."""
        if self.closing is not None:
            return
        if self.task is None:
            if self._write_now(frame):
                FRAMES_SENT.inc()
            return
        if not self._fits(len(frame)):
            SLOW_CLOSED.labels("control").inc()
            self.close(CLOSE_SLOW_CONSUMER, "slow_consumer")
            return
        self.queue.append(frame)
        self.queued_bytes += len(frame)

    async def flushed(self) -> None:
        """Until the backlog is written (the caller bounds the wait)."""
        while self.task is not None and not self.task.done():
            await asyncio.wait({self.task})

    def close(self, code: int, reason: str) -> None:
        """Close with ``code``; a backlog is dropped (the client resumes with ``since``)."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        CLOSED.labels(CLOSE_CODES.get(code, reason)).inc()
        if self.task is not None:
            self.task.cancel()
        self._drop()
        self.task = asyncio.create_task(self._closer())

    async def _closer(self) -> None:
        await self.send_close()
        self.on_closed()

    async def send_close(self) -> None:
        """Send the close frame once (bounded: a client that reads nothing cannot hold us)."""
        if self.closing is None or self._close_sent:
            return
        self._close_sent = True
        code, reason = self.closing
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.send({"type": "websocket.close", "code": code, "reason": reason})

    async def _writer(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        """Finish the frame that found the socket busy, then drain the backlog, then end."""
        me = asyncio.current_task()
        sent, timeout = 0, self.send_timeout
        try:
            async with asyncio.timeout(timeout):
                await _finish(coro, pending)
            sent = 1
            queue = self.queue
            while queue:
                item = queue.popleft()
                if type(item) is Entry:
                    self.queued_bytes -= len(item.frame)
                    await self._send(item.frame, timeout)
                    if item.t:
                        LATENCY.observe(max(time.time() - item.t / 1000, 0))
                elif type(item) is str:
                    self.queued_bytes -= len(item)
                    await self._send(item, timeout)
                elif self.subs.get(item.channel) is item:  # type: ignore[union-attr]
                    await self._send(self._flush(item), timeout)  # type: ignore[arg-type]
                else:
                    continue
                sent += 1
        except TimeoutError:  # the client reads nothing: it is a slow consumer, whatever its channels
            self.task = None
            SLOW_CLOSED.labels("blocked").inc()
            self.close(CLOSE_SLOW_CONSUMER, "slow_consumer")
        except Exception:  # noqa: BLE001 - the client is gone: its receive loop ends the connection
            self._drop()
        finally:
            FRAMES_SENT.inc(sent)
            if self.task is me:
                self.task = None

    async def _send(self, text: str, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self.send({"type": "websocket.send", "text": text})

    def _drop(self) -> None:
        self.queue.clear()
        self.queued_bytes = 0

    def stop(self) -> None:
        """The connection ended: stop writing."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self._drop()
