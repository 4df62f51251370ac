"""The room board's answers, kept encoded per board version.

A board of 500 rooms over 30 nights is ~15,000 cells from ~5,000 occupancy rows: about 60 ms of queries
and Python on this machine. The board changes only when a room, an occupancy row or a booking's
"in the house" flag changes, and each of those raises the property's version in ``board_versions`` in the
same transaction (migration 0098, by trigger, whoever wrote it). So each api process keeps the encoded
answer of (property, first night, nights) with the version it was built at, and answers from it while the
version is the same: a read costs one indexed row. The version is read first and the grid is built in one
repeatable-read snapshot with it, so an entry is never older than its version.

Requests that miss together share one build (the first starts it as a task of its own, so a client that
goes away does not cancel it for the others), unless they saw a newer version than the one it started at.

Bounded by ``frontdesk_board_cache_bytes`` (least recently used answers go first; 0 keeps none).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from cachetools import LRUCache


class BoardKey(NamedTuple):
    property_id: str
    first_night: dt.date
    nights: int


class _Entry(NamedTuple):
    version: int
    body: bytes


Build = Callable[[], Awaitable[tuple[int, bytes]]]  # the answer and the version it was built at


class BoardCache:
    def __init__(self, max_bytes: int) -> None:
        self._entries: LRUCache[BoardKey, _Entry] | None = (
            LRUCache(maxsize=max_bytes, getsizeof=lambda e: len(e.body)) if max_bytes > 0 else None)
        self._building: dict[BoardKey, tuple[int, asyncio.Future[tuple[int, bytes]]]] = {}

    async def answer(self, key: BoardKey, version: int, build: Build) -> bytes:
        """The answer at ``version`` or newer: kept, being built for a request that saw at least ``version``,
        or built now."""
        body = self.get(key, version)
        if body is not None:
            return body
        building = self._building.get(key)
        if building is None or building[0] < version:
            building = (version, asyncio.ensure_future(build()))
            self._building[key] = building
            building[1].add_done_callback(lambda task, b=building: self._built(key, b))  # type: ignore[misc]
        return (await asyncio.shield(building[1]))[1]

    def _built(self, key: BoardKey, building: tuple[int, asyncio.Future[tuple[int, bytes]]]) -> None:
        if self._building.get(key) is building:
            del self._building[key]
        task = building[1]
        if not task.cancelled() and task.exception() is None:
            self.put(key, *task.result())

    def get(self, key: BoardKey, version: int) -> bytes | None:
        """The answer built at ``version``, or None (never built here, evicted, or the board moved on)."""
        entry = self._entries.get(key) if self._entries is not None else None
        return entry.body if entry is not None and entry.version == version else None

    def put(self, key: BoardKey, version: int, body: bytes) -> None:
        if self._entries is None or len(body) > self._entries.maxsize:
            return  # larger than the whole bound: answered, not kept
        kept = self._entries.get(key)
        if kept is None or kept.version <= version:  # two builds may end out of order
            self._entries[key] = _Entry(version, body)
