"""Redis makes contention cheap: fenced per-(product, night) locks, sold-out marks, hold leases.

None of this makes a hold correct: PostgreSQL's guarded update and CHECK do. A lock only keeps writers of
one night from queueing on its row; its fencing token lets PostgreSQL refuse a writer that was paused past
its lock's TTL while someone else took the lock (``inventory.fence``).

- Locks are taken all at once by one Lua script (all or none, keys in sorted order): no partial sets, no
  lock-order deadlocks. Each key's fencing token is ``max(Redis time in µs, last token + 1)``: it keeps
  growing even when Redis loses its keys (a flush, a restart without persistence), so a new token is
  never older than one PostgreSQL already accepted.
- A sold-out mark lets every further attempt on a full night be refused without touching its row; it is
  deleted the moment capacity returns and expires on its own after ``hold_soldout_mark_ms``.
- When Redis is unreachable every call raises :class:`LocksUnavailable`; the service then works on
  PostgreSQL alone (slower, still correct).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.catalog.availability import SOLD_OUT_PREFIX
from app.errors import ServiceUnavailable
from app.holds.domain import Line
from app.holds.metrics import HOLDS_BUSY

_ACQUIRE = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', 'hold:lock:' .. key) == 1 then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tokens = {}
for i, key in ipairs(KEYS) do
  local last = tonumber(redis.call('GET', 'hold:fence:' .. key) or '0')
  -- microseconds stay below 2^53: exact in Lua's doubles; format them as integers, never 1.7e+15
  local token = string.format('%.0f', math.max(now, last + 1))
  redis.call('SET', 'hold:fence:' .. key, token, 'EX', 86400)
  redis.call('SET', 'hold:lock:' .. key, ARGV[1], 'PX', ARGV[2])
  tokens[i] = token
end
return tokens
"""
_RELEASE = """
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', 'hold:lock:' .. key) == ARGV[1] then n = n + redis.call('DEL', 'hold:lock:' .. key) end
end
return n
"""
_CALL_TIMEOUT_S = 0.5


class _Abandon(Exception):
    """A night sold out while this writer queued: give up the place in the queue."""


class LocksUnavailable(RuntimeError):
    """Redis cannot be reached (or answers too slowly): go on with PostgreSQL alone."""


# PostgreSQL's lock timeout (Redis away) or a deadlock: a hold answers ``busy("pg_lock")``
PG_LOCK_ERRORS = (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError)


class StaleFence(RuntimeError):
    """PostgreSQL refused our fencing token: our lock expired and another writer took it."""


def busy(cause: str) -> ServiceUnavailable:
    """The ``503 busy`` answer; ``cause`` is counted for operators (``resort_hold_busy_total``)."""
    HOLDS_BUSY.labels(cause).inc()
    return ServiceUnavailable("too many attempts on these nights right now; retry in a moment", code="busy",
                              headers={"Retry-After": "1"})


def fences(lines: list[Line], tokens: dict[str, int] | None) -> list[int | None]:
    """Each line's fencing token from the Redis lease (None: no lease, PostgreSQL's lock timeout guards)."""
    return [tokens.get(line.resource) if tokens else None for line in lines]


@dataclass(frozen=True, slots=True)
class Lease:
    """Locks held on ``keys`` by ``owner``; ``tokens[key]`` is the fencing token to write with."""

    owner: str
    keys: tuple[str, ...]
    tokens: dict[str, int]
    waited_s: float
    local: asyncio.Lock | None = None


class _LocalQueues:
    """Writers of one process queue FIFO for the same keys; only the head polls Redis. A released lock
    passes to the next local writer at once, without the polling gap, and a hot night costs Redis one
    poller per process instead of one per request."""

    def __init__(self) -> None:
        self.locks: dict[tuple[str, ...], tuple[asyncio.Lock, int]] = {}

    async def enter(self, keys: tuple[str, ...], timeout: float) -> asyncio.Lock | None:
        lock, users = self.locks.get(keys, (asyncio.Lock(), 0))
        self.locks[keys] = (lock, users + 1)
        try:
            async with asyncio.timeout(max(timeout, 0.001)):
                await lock.acquire()
            return lock
        except TimeoutError:
            self.leave(keys, None)
            return None

    def leave(self, keys: tuple[str, ...], lock: asyncio.Lock | None) -> None:
        if lock is not None:
            lock.release()
        held, users = self.locks[keys]
        if users <= 1:
            del self.locks[keys]
        else:
            self.locks[keys] = (held, users - 1)


class HoldLocks:
    def __init__(self, redis: Redis, ttl_ms: int, wait_ms: int, soldout_ms: int) -> None:
        self.redis = redis
        self.ttl_ms, self.wait_ms, self.soldout_ms = ttl_ms, wait_ms, soldout_ms
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._queues = _LocalQueues()

    async def _call(self, coro):  # type: ignore[no-untyped-def]
        try:
            async with asyncio.timeout(_CALL_TIMEOUT_S):
                return await coro
        except (RedisError, OSError, TimeoutError) as exc:
            raise LocksUnavailable(str(exc) or type(exc).__name__) from exc

    async def try_acquire(self, keys: list[str], owner: str) -> dict[str, int] | None:
        result = await self._call(self._acquire(keys=keys, args=[owner, self.ttl_ms]))
        if not result:
            return None
        return {key: int(token) for key, token in zip(keys, result, strict=True)}

    async def acquire(self, keys: list[str], *, sold_out: Iterable[str] = (),
                      deadline: float | None = None) -> Lease | None:
        """All of ``keys`` within ``wait_ms`` (or by ``deadline``), or None (busy, or sold out meanwhile)."""
        began = time.monotonic()
        deadline = deadline or began + self.wait_ms / 1000
        local = await self._queues.enter(tuple(keys), deadline - began)
        if local is None:
            return None
        try:
            marks = list(sold_out)
            if marks and await self.marked_sold_out(marks):
                raise _Abandon
            tokens = await self._poll(keys, secrets.token_hex(8), deadline, marks)
        except BaseException as exc:
            self._queues.leave(tuple(keys), local)
            if isinstance(exc, _Abandon):
                return None
            raise
        if tokens is None:
            self._queues.leave(tuple(keys), local)
            return None
        owner, token_map = tokens
        return Lease(owner, tuple(keys), token_map, time.monotonic() - began, local)

    async def _poll(self, keys: list[str], owner: str, deadline: float,
                    marks: list[str]) -> tuple[str, dict[str, int]] | None:
        """Try, back off, try again (other processes hold the keys) until the deadline."""
        pause = 0.002
        while True:
            tokens = await self.try_acquire(keys, owner)
            if tokens is not None:
                return owner, tokens
            if time.monotonic() + pause > deadline or (marks and await self.marked_sold_out(marks)):
                return None
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.02)

    async def release(self, lease: Lease) -> None:
        try:
            await self._call(self._release(keys=list(lease.keys), args=[lease.owner]))
        finally:
            if lease.local is not None:
                self._queues.leave(lease.keys, lease.local)

    async def marked_sold_out(self, resources: list[str]) -> list[str]:
        """Which of ``resources`` carry a sold-out mark."""
        if not resources:
            return []
        values = await self._call(self.redis.mget([f"{SOLD_OUT_PREFIX}{r}" for r in resources]))
        return [r for r, v in zip(resources, values, strict=True) if v is not None]

    async def mark_sold_out(self, resources: list[str]) -> None:
        if resources:
            async with self.redis.pipeline(transaction=False) as pipe:
                for resource in resources:
                    pipe.set(f"{SOLD_OUT_PREFIX}{resource}", b"1", px=self.soldout_ms)
                await self._call(pipe.execute())

    async def clear_sold_out(self, resources: list[str]) -> None:
        if resources:
            await self._call(self.redis.delete(*[f"{SOLD_OUT_PREFIX}{r}" for r in resources]))

    async def set_lease(self, hold_id: str, ttl_ms: int) -> None:
        await self._call(self.redis.set(f"hold:lease:{hold_id}", b"1", px=max(ttl_ms, 1)))

    async def drop_lease(self, hold_id: str) -> None:
        await self._call(self.redis.delete(f"hold:lease:{hold_id}"))
