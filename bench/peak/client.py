"""The load client of ``bench.peak``: an attempt is ``POST /holds`` -> ``POST /bookings`` (``tok_approve``)
-> ``GET /bookings/{id}`` every 50 ms until final, timed from the first request to the final status.

Every request is counted: its status, and connection errors. A ``503 busy`` is retried after its
``Retry-After`` (as a client following the contract would) and counted; any other 5xx or connection error
ends the attempt as failed. Nothing is left out of the latency sample: a failed attempt's time is in it too.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

POLL_S = 0.05
FINAL = {"confirmed", "failed", "cancelled"}


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    connection_errors: int = 0
    busy_retries: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.connection_errors

    @property
    def server_errors(self) -> int:
        """Every 5xx but the ``503 busy`` answers (retried, counted as busy): a ``503`` with another code, such
        as ``payment_provider_unavailable``, is a failure the guest saw."""
        return sum(n for s, n in self.statuses.items() if s >= 500) - self.busy_retries


class Attempts:
    def __init__(self, session: aiohttp.ClientSession, base: str, tokens: list[str], tally: Tally) -> None:
        self.session, self.base, self.tokens, self.tally = session, base, tokens, tally

    async def _call(self, method: str, path: str, token: str, body: Any = None,
                    idempotent: bool = False) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        for _ in range(50):
            try:
                async with self.session.request(method, self.base + path, json=body, headers=headers) as response:
                    self.tally.statuses[response.status] += 1
                    payload = await response.json(content_type=None)
                    if response.status == 503 and payload.get("code") == "busy":
                        self.tally.busy_retries += 1
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    return response.status, payload
            except (aiohttp.ClientError, asyncio.TimeoutError):
                self.tally.connection_errors += 1
                return 0, None
        return 503, None

    async def book(self, n: int, product: str, night: str, check_out: str) -> str:
        """One attempt; its outcome (``confirmed``, ``failed``, ``sold_out``, ``error:<status>``)."""
        token = self.tokens[n % len(self.tokens)]
        began = time.perf_counter()
        outcome = await self._book(token, product, night, check_out)
        self.tally.latencies.append(time.perf_counter() - began)
        self.tally.outcomes[outcome] += 1
        return outcome

    async def _book(self, token: str, product: str, night: str, check_out: str) -> str:
        status, hold = await self._call("POST", "/holds", token, {
            "product_id": product, "check_in": night, "check_out": check_out, "quantity": 1, "guests": 2},
            idempotent=True)
        if status == 409 and hold and hold.get("code") == "sold_out":
            return "sold_out"
        if status != 201:
            return f"error:hold:{status}"
        status, booking = await self._call("POST", "/bookings", token, {
            "hold_ids": [hold["id"]], "guest": {"name": "Peak Guest", "email": "peak@example.com"},
            "payment": {"card_token": "tok_approve"}}, idempotent=True)
        if status not in (201, 202):
            return f"error:book:{status}"
        while booking.get("status") not in FINAL:
            await asyncio.sleep(POLL_S)
            status, booking = await self._call("GET", f"/bookings/{booking['id']}", token)
            if status != 200:
                return f"error:poll:{status}"
        return booking["status"]


async def run_attempts(base: str, tokens: list[str], jobs: list[tuple[str, str, str]], concurrency: int,
                       ) -> tuple[Tally, float]:
    """Run ``jobs`` (product, check-in, check-out) with ``concurrency`` clients; the tally and wall seconds."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    queue: asyncio.Queue[tuple[int, tuple[str, str, str]]] = asyncio.Queue()
    for item in enumerate(jobs):
        queue.put_nowait(item)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        attempts = Attempts(session, base, tokens, tally)

        async def worker() -> None:
            while not queue.empty():
                n, job = queue.get_nowait()
                await attempts.book(n, *job)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return tally, time.perf_counter() - began


async def bare(base: str, concurrency: int, count: int) -> float:
    """``GET /ping`` with the same client and concurrency: requests per second (the bare endpoint)."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    done = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal done
            while done < count:
                done += 1
                async with session.get(base + "/ping") as response:
                    await response.read()

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - began)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")
