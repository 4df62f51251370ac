"""The room board's kept answers: one per (property, dates), valid only at the version they were built at,
bounded in bytes."""

from __future__ import annotations

import asyncio
import datetime as dt

from app.frontdesk.board_cache import BoardCache, BoardKey

DAY1 = dt.date(2027, 3, 1)


def test_an_answer_is_given_back_only_at_its_version() -> None:
    cache, key = BoardCache(1000), BoardKey("p", DAY1, 14)
    cache.put(key, 3, b"board at 3")
    assert (cache.get(key, 3), cache.get(key, 4), cache.get(BoardKey("p", DAY1, 7), 3)) == (b"board at 3", None, None)


def test_the_least_recently_read_go_first_past_the_bound_and_0_keeps_none() -> None:
    cache = BoardCache(25)
    keys = [BoardKey("p", DAY1 + dt.timedelta(days=i), 14) for i in range(3)]
    cache.put(keys[0], 1, b"a" * 10)
    cache.put(keys[1], 1, b"b" * 10)
    assert cache.get(keys[0], 1) == b"a" * 10  # read: now the most recent
    cache.put(keys[2], 1, b"c" * 10)
    assert [cache.get(k, 1) for k in keys] == [b"a" * 10, None, b"c" * 10]
    cache.put(keys[1], 1, b"x" * 26)  # larger than the whole bound: not kept, nothing evicted
    assert [cache.get(k, 1) is not None for k in keys] == [True, False, True]
    off = BoardCache(0)
    off.put(keys[0], 1, b"a")
    assert off.get(keys[0], 1) is None


async def test_requests_that_miss_together_share_one_build_unless_they_saw_a_newer_version() -> None:
    cache, key, builds = BoardCache(1000), BoardKey("p", DAY1, 14), []
    both_started, release = asyncio.Event(), {5: asyncio.Event(), 6: asyncio.Event()}

    async def build(version: int) -> tuple[int, bytes]:
        builds.append(version)
        if len(builds) == 2:
            both_started.set()
        await release[version].wait()
        return version, f"board at {version}".encode()

    first = [asyncio.create_task(cache.answer(key, 5, lambda: build(5))) for _ in range(3)]
    newer = asyncio.create_task(cache.answer(key, 6, lambda: build(6)))
    await both_started.wait()
    release[6].set()
    assert await newer == b"board at 6"
    release[5].set()  # the older build ends last: its answer is given to its requests, the newer one is kept
    assert await asyncio.gather(*first) == [b"board at 5"] * 3
    assert (builds, cache.get(key, 6), cache.get(key, 5)) == ([5, 6], b"board at 6", None)
