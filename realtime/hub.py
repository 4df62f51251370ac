"""One reader task per channel per api process, fanning each entry out to the local subscribers.

The reader blocks on ``XREAD`` only to wake up, then reads the epoch and the new entries in one
MULTI, so entries of a new epoch are never taken for the old one. Each entry's frame (text and wire bytes) is
built once here and shared by every subscriber; delivering is a synchronous call per subscriber (no task, no copy).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog
from redis.asyncio import Redis

from app import tracing
from realtime.channels import (
    CLOSE_SERVICE_RESTART,
    CLOSE_SESSION_ENDED,
    meta_key,
    reconnect_frame,
    stream_key,
    update_frame,
)
from realtime.metrics import FRAMES_SENT, LATENCY, RESYNCS
from realtime.store import Entry, StreamStore, parse_entries
from realtime.wire import prepare

if TYPE_CHECKING:
    from realtime.connection import Connection, Subscription

log = structlog.get_logger("realtime.hub")
_BLOCK_MS = 1000
_BATCH = 1000


class ChannelReader:
    def __init__(self, hub: Hub, channel: str) -> None:
        self.hub = hub
        self.channel = channel
        self.subs: set[Subscription] = set()
        self.epoch = ""
        self.last = 0
        self.ready = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"live-reader:{channel}")

    async def _run(self) -> None:
        redis, stream = self.hub.redis, stream_key(self.channel)
        while True:
            try:
                if not self.ready.is_set():
                    self.epoch, self.last = await self.hub.store.position(self.channel)
                    self.ready.set()
                await redis.xread({stream: f"{self.last}-0"}, block=_BLOCK_MS, count=1)
                async with redis.pipeline(transaction=True) as pipe:
                    pipe.hget(meta_key(self.channel), "epoch")
                    pipe.xrange(stream, f"{self.last + 1}-0", "+", count=_BATCH)
                    epoch, raw = await pipe.execute()
                if epoch is None or epoch.decode() != self.epoch:
                    await self._new_epoch()
                elif raw:
                    self._deliver(parse_entries(raw))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis unreachable: retry; subscribers keep their place
                log.warning("live_reader_error", channel=self.channel, error=repr(exc))
                await asyncio.sleep(0.5)

    async def _new_epoch(self) -> None:
        """The stream was lost: every subscriber gets a fresh snapshot of the new epoch."""
        self.epoch, self.last = await self.hub.store.position(self.channel)
        RESYNCS.inc(len(self.subs))
        for sub in list(self.subs):
            sub.conn.resync(sub)

    def _deliver(self, entries: list[Entry]) -> None:
        if entries[0].seq != self.last + 1:  # trimmed past us (we fell behind retention): resnapshot
            self.last = entries[-1].seq
            for sub in list(self.subs):
                sub.conn.resync(sub)
            return
        self.last = entries[-1].seq
        written = 0
        for entry in entries:
            entry.frame = update_frame(self.channel, self.epoch, entry.seq, entry.data)
            entry.wire = prepare(entry.frame)
            entry.epoch = self.epoch
            if entry.traceparent and tracing.enabled():
                written += self._push_traced(entry)
            else:
                written += self._push(entry)
            if entry.t:  # the event -> socket time of this entry's last frame written in the fan-out
                LATENCY.observe(max(time.time() - entry.t / 1000, 0))
        FRAMES_SENT.inc(written)

    def _push(self, entry: Entry) -> int:
        written = 0
        for sub in self.subs:
            if sub.conn.offer(sub, entry):
                written += 1
        return written

    def _push_traced(self, entry: Entry) -> int:
        """The fan-out of one entry as a span of the trace that caused it (the event's, via the publisher)."""
        with tracing.span(f"push {self.channel.split(':', 1)[0]}", entry.traceparent, "producer",
                          {"resort.live.channel": self.channel, "resort.live.seq": entry.seq}) as span:
            written = self._push(entry)
            span.set_attribute("resort.live.frames", written)
            return written


class Hub:
    """This process's readers and connections (by session, for revocation)."""

    def __init__(self, redis: Redis, store: StreamStore) -> None:
        self.redis = redis
        self.store = store
        self.readers: dict[str, ChannelReader] = {}
        self.sessions: dict[str, set[Connection]] = {}

    async def add(self, sub: Subscription) -> ChannelReader:
        """Attach ``sub`` to its channel's reader, started if needed; returns once the reader has its
        starting position (so what the subscriber reads next overlaps what the reader will deliver)."""
        reader = self.readers.get(sub.channel)
        if reader is None:
            reader = self.readers[sub.channel] = ChannelReader(self, sub.channel)
        reader.subs.add(sub)
        await reader.ready.wait()
        return reader

    def remove(self, sub: Subscription) -> None:
        reader = self.readers.get(sub.channel)
        if reader is None:
            return
        reader.subs.discard(sub)
        if not reader.subs:
            del self.readers[sub.channel]
            reader.task.cancel()

    def track(self, session_id: str | None, conn: Connection) -> None:
        if session_id:
            self.sessions.setdefault(session_id, set()).add(conn)

    def untrack(self, session_id: str | None, conn: Connection) -> None:
        if session_id and session_id in self.sessions:
            self.sessions[session_id].discard(conn)
            if not self.sessions[session_id]:
                del self.sessions[session_id]

    def revoked(self, session_id: str) -> None:
        """A session ended (logout, revocation, back-channel logout): close its sockets here."""
        for conn in list(self.sessions.get(session_id, ())):
            conn.close(CLOSE_SESSION_ENDED, "session_ended")

    async def drain(self) -> None:
        """The process is stopping: stop every reader (nothing more is delivered), send each subscribed socket
        its backlog and then a ``reconnect`` frame with each channel's position, close it 1012."""
        subs = [sub for reader in self.readers.values() for sub in reader.subs]
        await self.stop()
        resume: dict[Connection, list[tuple[str, str, int]]] = {}
        for sub in subs:
            positions = resume.setdefault(sub.conn, [])
            if not sub.catching_up:  # a subscription still catching up resubscribes afresh
                positions.append((sub.channel, sub.epoch, sub.cursor))
        for conn, positions in resume.items():
            conn.push(reconnect_frame(positions))
        await asyncio.gather(*(conn.flushed() for conn in resume))
        for conn in resume:
            conn.close(CLOSE_SERVICE_RESTART, "server_restarting")
        await asyncio.gather(*(conn.task for conn in resume if conn.task is not None), return_exceptions=True)

    async def stop(self) -> None:
        readers = list(self.readers.values())
        self.readers.clear()
        for reader in readers:
            reader.task.cancel()
        if readers:  # asyncio.wait: a cancel of the caller (the drain's deadline) still reaches the caller
            await asyncio.wait([reader.task for reader in readers])
