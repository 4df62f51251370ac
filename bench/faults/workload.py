"""Simulated guests over a small pool of hot nights, and the history of what they did.

Every operation is recorded as invoked, then ``ok``, ``fail`` or ``unknown`` (a timeout or a dropped
connection: it may or may not have happened), with times. Unsafe calls carry an Idempotency-Key and are
retried with the same key while the answer is "busy" or unknown, as a careful client would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

# The provider's faults too: a decline, transient errors, a hung authorization, one that answers after the
# caller gave up (the charge happened), and refunds that fail before they succeed.
TOKENS = ("tok_approve",) * 5 + ("tok_refund_flaky", "tok_decline", "tok_flaky", "tok_timeout", "tok_late")


@dataclass
class Op:
    kind: str
    client: int
    invoked: float
    completed: float = 0.0
    outcome: str = "unknown"  # ok, fail, unknown
    status: int = 0
    code: str = ""
    ref: str = ""
    actor: str = "guest"  # or the partner's client id


@dataclass
class History:
    began: float = field(default_factory=time.monotonic)
    ops: list[Op] = field(default_factory=list)
    server_errors: dict[str, int] = field(default_factory=dict)  # "POST /holds 500" -> answers (retried)

    def start(self, kind: str, client: int, actor: str = "guest") -> Op:
        op = Op(kind, client, time.monotonic() - self.began, actor=actor)
        self.ops.append(op)
        return op


@dataclass
class Guest:
    """A simulated guest, or a partner (``actor`` its client id, ``renew`` its client-credentials grant)."""

    n: int
    token: str = ""
    actor: str = "guest"
    renew: Any = None
    holds: list[str] = field(default_factory=list)
    bookings: list[str] = field(default_factory=list)


class Workload:
    def __init__(self, apis: list[str], products: list[str], nights: list[dt.date], sign_in: Any,
                 history: History, booked: Any = None) -> None:
        self.clients = [httpx.AsyncClient(base_url=url, timeout=10) for url in apis]
        self.products, self.nights, self.sign_in, self.history = products, nights, sign_in, history
        self.booked = booked or (lambda booking_id: None)  # told every acknowledged booking (live watchers)

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def run(self, guests: int, stop: asyncio.Event, partners: tuple[Guest, ...] = ()) -> None:
        await asyncio.gather(*(self._guest(Guest(n), stop) for n in range(guests)),
                             *(self._guest(partner, stop) for partner in partners))

    async def _renew(self, guest: Guest) -> str:
        return await (guest.renew() if guest.renew is not None else self.sign_in(guest.n))

    async def _guest(self, guest: Guest, stop: asyncio.Event) -> None:
        guest.token = await self._renew(guest)
        while not stop.is_set():
            roll = random.random()
            if guest.holds and roll < 0.45:
                await self._book(guest)
            elif guest.holds and roll < 0.55:
                await self._release(guest)
            elif guest.bookings and roll < 0.65:
                await self._cancel(guest)
            else:
                await self._hold(guest)
            await asyncio.sleep(random.uniform(0.05, 0.2))

    async def _call(self, guest: Guest, op: Op, method: str, path: str, body: Any = None) -> httpx.Response | None:
        """One call with retries on busy and on unknown outcomes (same Idempotency-Key): the answer, or
        None when it stayed unknown."""
        key = uuid.uuid4().hex
        for attempt in range(4):
            client = self.clients[(guest.n + attempt) % len(self.clients)]
            try:
                response = await client.request(method, path, json=body, headers={
                    "Authorization": f"Bearer {guest.token}", "Idempotency-Key": key})
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            if response.status_code == 401:
                guest.token = await self._renew(guest)  # Redis lost the session: sign in again
                continue
            if response.status_code >= 500 and response.status_code != 503:
                what = f"{method} /{path.split('/')[1]} {response.status_code}"
                self.history.server_errors[what] = self.history.server_errors.get(what, 0) + 1
            if response.status_code in (429, 503) or response.status_code >= 500:
                await asyncio.sleep(float(response.headers.get("retry-after", "0.5")))
                continue
            return response
        return None

    def _finish(self, op: Op, response: httpx.Response | None, ok: tuple[int, ...]) -> None:
        op.completed = time.monotonic() - self.history.began
        if response is None:
            op.outcome = "unknown"
            return
        op.status = response.status_code
        op.outcome = "ok" if response.status_code in ok else "fail"
        if response.status_code >= 400:
            op.code = response.json().get("code", "")

    async def _hold(self, guest: Guest) -> None:
        night = random.choice(self.nights[:-2])
        body = {"product_id": random.choice(self.products), "check_in": night.isoformat(),
                "check_out": (night + dt.timedelta(days=random.choice((1, 1, 2)))).isoformat(),
                "quantity": 1, "guests": 2}
        op = self.history.start("hold", guest.n, guest.actor)
        response = await self._call(guest, op, "POST", "/holds", body)
        self._finish(op, response, (201,))
        if op.outcome == "ok":
            op.ref = response.json()["id"]  # type: ignore[union-attr]
            guest.holds.append(op.ref)

    async def _release(self, guest: Guest) -> None:
        hold_id = guest.holds.pop(random.randrange(len(guest.holds)))
        op = self.history.start("release", guest.n, guest.actor)
        op.ref = hold_id
        self._finish(op, await self._call(guest, op, "DELETE", f"/holds/{hold_id}"), (204,))

    async def _book(self, guest: Guest) -> None:
        hold_id = guest.holds.pop(random.randrange(len(guest.holds)))
        body = {"hold_ids": [hold_id], "guest": {"name": f"Guest {guest.n}", "email": f"g{guest.n}@example.com"},
                "payment": {"card_token": random.choice(TOKENS)}}
        op = self.history.start("book", guest.n, guest.actor)
        response = await self._call(guest, op, "POST", "/bookings", body)
        self._finish(op, response, (202,))
        if op.outcome == "ok":
            op.ref = response.json()["id"]  # type: ignore[union-attr]
            guest.bookings.append(op.ref)
            self.booked(op.ref)

    async def _cancel(self, guest: Guest) -> None:
        """Cancel a booking the guest sees confirmed (a pending one is looked at again later)."""
        booking_id = random.choice(guest.bookings)
        try:
            seen = await self.clients[guest.n % len(self.clients)].get(
                f"/bookings/{booking_id}", headers={"Authorization": f"Bearer {guest.token}"})
            status = seen.json().get("status") if seen.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return
        if status in ("failed", "cancelled", "cancelling"):
            guest.bookings.remove(booking_id)
        if status != "confirmed":
            return
        op = self.history.start("cancel", guest.n, guest.actor)
        op.ref = booking_id
        response = await self._call(guest, op, "POST", f"/bookings/{booking_id}/cancel")
        self._finish(op, response, (202,))
        if op.outcome == "ok" or (response is not None and response.status_code in (404, 409)
                                  and op.code != "booking_pending"):
            guest.bookings.remove(booking_id)
