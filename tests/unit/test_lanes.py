"""Bounded concurrency with each key in order, and commits only past finished messages."""

from __future__ import annotations

import asyncio

from app.lanes import Lanes


async def test_one_slow_key_does_not_hold_the_others_and_each_key_keeps_its_order() -> None:
    lanes, done, gate = Lanes(8), [], asyncio.Event()

    def work(name: str, wait: bool = False):  # noqa: ANN202
        async def run() -> None:
            if wait:
                await gate.wait()
            done.append(name)
        return run

    await lanes.submit("p0", 0, b"slow", work("slow-1", wait=True))
    await lanes.submit("p0", 1, b"slow", work("slow-2"))
    for offset in range(2, 6):
        await lanes.submit("p0", offset, f"k{offset}".encode(), work(f"k{offset}"))
    while len(done) < 4:
        await asyncio.sleep(0.01)
    assert done == ["k2", "k3", "k4", "k5"] and lanes.committable() == {}  # offset 0 is not done yet
    gate.set()
    while len(done) < 6:
        await asyncio.sleep(0.01)
    assert done[4:] == ["slow-1", "slow-2"] and lanes.committable() == {"p0": 6}


async def test_a_failed_message_is_never_committed_past() -> None:
    lanes = Lanes(2)

    async def fail() -> None:
        raise RuntimeError("the store is down")

    async def ok() -> None:
        return None

    await lanes.submit("p0", 10, b"a", fail)
    await lanes.submit("p0", 11, b"b", ok)
    await lanes.drain(1)
    assert lanes.committable() == {}
