"""The single writer per hot key (``app.holds.coalesce``), with plain coroutines in place of the database."""

from __future__ import annotations

import asyncio

import pytest

from app.holds.coalesce import Coalescer


class Full(Exception):
    pass


class Store:
    """Units of one key; ``alone`` and ``together`` take them, each claim its own answer. ``gate`` holds the
    writes until the test lets them through, so claims can queue behind a running write."""

    def __init__(self, units: int) -> None:
        self.units, self.rounds = units, []
        self.gate = asyncio.Event()

    async def alone(self, want: int) -> int:
        self.rounds.append([want])
        await self.gate.wait()
        return self._take(want)

    async def together(self, wants: list[int]) -> list[int | BaseException]:
        self.rounds.append(list(wants))
        await self.gate.wait()
        out: list[int | BaseException] = []
        for want in wants:
            try:
                out.append(self._take(want))
            except Full as exc:
                out.append(exc)
        return out

    def _take(self, want: int) -> int:
        if want > self.units:
            raise Full(f"{want} wanted, {self.units} left")
        self.units -= want
        return self.units


def _writer(store: Store, max_batch: int = 64, max_waiting: int = 500) -> Coalescer[int, int]:
    return Coalescer(store.alone, store.together, max_batch, max_waiting, lambda why: RuntimeError(f"busy: {why}"))


async def _behind_a_write(writer: Coalescer[int, int], first: int, wants: list[int],
                          ) -> tuple[asyncio.Task[int], list[asyncio.Task[int]]]:
    """A claim being written (held at the store's gate) and ``wants`` queued behind it."""
    writing = asyncio.create_task(writer.submit("night", first))
    await asyncio.sleep(0)
    queued = [asyncio.create_task(writer.submit("night", want)) for want in wants]
    await asyncio.sleep(0)
    return writing, queued


async def test_a_claim_on_a_quiet_key_is_written_alone_and_the_key_is_quiet_again() -> None:
    store = Store(10)
    store.gate.set()
    writer = _writer(store)
    assert await writer.submit("night", 3) == 7
    assert store.rounds == [[3]] and writer.queues == {} and writer.writers == set()


async def test_claims_queued_behind_a_write_are_decided_together_each_with_its_own_answer() -> None:
    store = Store(10)
    writer = _writer(store)
    first, queued = await _behind_a_write(writer, 4, [3, 5, 2, 1])
    store.gate.set()
    assert await first == 6
    results = await asyncio.gather(*queued, return_exceptions=True)
    assert store.rounds == [[4], [3, 5, 2, 1]]  # one write alone, then one round for everyone who queued
    assert results[0] == 3 and isinstance(results[1], Full) and results[2:] == [1, 0]
    await asyncio.sleep(0)
    assert writer.queues == {} and writer.waiting == 0


async def test_rounds_take_at_most_max_batch_claims() -> None:
    store = Store(100)
    writer = _writer(store, max_batch=2)
    first, queued = await _behind_a_write(writer, 1, [1] * 5)
    store.gate.set()
    await asyncio.gather(first, *queued)
    assert store.rounds == [[1], [1, 1], [1, 1], [1]]


async def test_past_max_waiting_a_claim_is_refused_at_once() -> None:
    store = Store(10)
    writer = _writer(store, max_waiting=2)
    first, queued = await _behind_a_write(writer, 1, [1, 1])
    with pytest.raises(RuntimeError, match="busy"):
        await writer.submit("night", 1)
    store.gate.set()
    await asyncio.gather(first, *queued)


async def test_other_keys_are_not_held_up_by_a_hot_one() -> None:
    gate = asyncio.Event()

    async def alone(claim: tuple[str, int]) -> int:
        if claim[0] == "hot":
            await gate.wait()
        return claim[1]

    async def together(claims: list[tuple[str, int]]) -> list[int | BaseException]:
        return [want for _, want in claims]

    writer: Coalescer[tuple[str, int], int] = Coalescer(alone, together, 64, 500, lambda why: RuntimeError(f"busy: {why}"))
    hot = asyncio.create_task(writer.submit("hot", ("hot", 1)))
    await asyncio.sleep(0)
    assert await writer.submit("cold", ("cold", 2)) == 2  # written at once while the hot key's write waits
    assert not hot.done()
    gate.set()
    assert await hot == 1


async def test_a_waiter_that_went_away_is_skipped_and_a_failed_round_answers_everyone() -> None:
    store = Store(10)

    async def broken(wants: list[int]) -> list[int | BaseException]:
        store.rounds.append(list(wants))
        raise ConnectionError("database gone")

    writer = Coalescer(store.alone, broken, 64, 500, lambda why: RuntimeError(f"busy: {why}"))
    first = asyncio.create_task(writer.submit("night", 1))
    await asyncio.sleep(0)
    gone = asyncio.create_task(writer.submit("night", 1))
    queued = [asyncio.create_task(writer.submit("night", n)) for n in (2, 3)]
    await asyncio.sleep(0)
    gone.cancel()
    store.gate.set()
    await first
    results = await asyncio.gather(*queued, return_exceptions=True)
    assert store.rounds == [[1], [2, 3]]
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
