"""A Hypothesis state machine of holds AND bookings against the real PostgreSQL, through the API and the
saga's real role processes: random holds, releases, bookings (approved or declined cards) and
cancellations, with the inventory, the public availability, the bookings' states and the money checked
against a model after every step."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.integration.bookings.conftest import booking_body
from tests.integration.bookings.test_saga import _settled

CAPACITY = 2
NIGHTS = 3
MAX_LIVE_HOLDS = 5  # RESORT_HOLD_MAX_ACTIVE_PER_USER
ENDED = {"tok_approve": "confirmed", "tok_decline": "failed"}
STEPS = 12
# Which live hold or booking a step takes is drawn as an index of a fixed range, never from a list the servers'
# answers built: the same choices always draw the same way, so a failure replays as itself (a sampled_from of
# live ids would make Hypothesis report FlakyStrategyDefinition instead of the assertion that failed).
PICK = st.integers(0, STEPS)


def _pick(data: Any, ids: Any) -> str:
    in_order = list(ids)  # in the order the steps made them (random ids sorted would not replay alike)
    return in_order[data.draw(PICK) % len(in_order)]


@pytest.fixture
async def machine(saga_roles: Any, client: Any, catalog_factory: Any, auth_headers: Any) -> Any:
    loop = asyncio.get_running_loop()

    class Bookings(RuleBasedStateMachine):
        """Model: live holds and bookings per night; PostgreSQL and the API must always agree with it."""

        def __init__(self) -> None:
            super().__init__()
            self.holds: dict[str, tuple[int, int]] = {}  # live hold -> (first night, nights)
            self.bookings: dict[str, tuple[str, int, int]] = {}  # booking -> (status, first night, nights)
            self.resort, self.headers = self._run(self._fresh())
            self.room, self.start = self.resort.room, self.resort.start

        def _run(self, coro: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

        async def _fresh(self) -> tuple[Any, dict[str, str]]:
            """A resort and a guest of this example only (no state carried between examples)."""
            resort = await catalog_factory.resort(nights=NIGHTS + 1)
            await catalog_factory.capacity(resort.room["id"], resort.start,
                                           resort.start + dt.timedelta(days=NIGHTS + 1), CAPACITY)
            return resort, await auth_headers(["guest"])

        def _count(self, night: int, status: str | None = None) -> int:
            if status is None:
                return sum(1 for first, n in self.holds.values() if first <= night < first + n)
            return sum(1 for s, first, n in self.bookings.values() if s == status and first <= night < first + n)

        def _post(self, path: str, body: Any = None) -> Any:
            return self._run(client.post(path, json=body, headers=self.headers | {"Idempotency-Key": uuid.uuid4().hex}))

        @precondition(lambda self: len(self.holds) < MAX_LIVE_HOLDS)
        @rule(first=st.integers(0, NIGHTS - 1), nights=st.integers(1, NIGHTS))
        def hold(self, first: int, nights: int) -> None:
            nights = min(nights, NIGHTS - first)
            fits = all(self._count(n) + self._count(n, "confirmed") < CAPACITY for n in range(first, first + nights))
            check_in = self.start + dt.timedelta(days=first)
            response = self._post("/holds", {"product_id": str(self.room["id"]), "check_in": check_in.isoformat(),
                                             "check_out": (check_in + dt.timedelta(days=nights)).isoformat(),
                                             "quantity": 1, "guests": 2})
            if response.status_code == 409:
                assert response.json()["code"] == "sold_out" and not fits, response.text
                return
            assert response.status_code == 201 and fits, (response.status_code, response.text, fits)
            self.holds[response.json()["id"]] = (first, nights)

        @precondition(lambda self: self.holds)
        @rule(data=st.data())
        def release(self, data: Any) -> None:
            hold_id = _pick(data, self.holds)
            response = self._run(client.delete(f"/holds/{hold_id}", headers=self.headers))
            assert response.status_code == 204, response.text
            del self.holds[hold_id]

        @precondition(lambda self: self.holds)
        @rule(data=st.data(), card=st.sampled_from(sorted(ENDED)))
        def book(self, data: Any, card: str) -> None:
            hold_id = _pick(data, self.holds)
            response = self._post("/bookings", booking_body([hold_id], card))
            assert response.status_code == 202, response.text
            booking = self._run(_settled(client, self.headers, response.json()["id"]))
            assert booking["status"] == ENDED[card], booking
            self.bookings[booking["id"]] = (booking["status"], *self.holds.pop(hold_id))

        @precondition(lambda self: any(s == "confirmed" for s, _, _ in self.bookings.values()))
        @rule(data=st.data())
        def cancel(self, data: Any) -> None:
            booking_id = _pick(data, (b for b, (s, _, _) in self.bookings.items() if s == "confirmed"))
            response = self._post(f"/bookings/{booking_id}/cancel")
            assert response.status_code == 202, response.text
            booking = self._run(_settled(client, self.headers, booking_id))
            assert booking["status"] == "cancelled", booking
            self.bookings[booking_id] = ("cancelled", *self.bookings[booking_id][1:])

        @precondition(lambda self: any(s != "confirmed" for s, _, _ in self.bookings.values()))
        @rule(data=st.data())
        def cancel_what_cannot_be(self, data: Any) -> None:
            """A failed or cancelled booking cannot be cancelled (again): 409, nothing changes."""
            booking_id = _pick(data, (b for b, (s, _, _) in self.bookings.items() if s != "confirmed"))
            response = self._post(f"/bookings/{booking_id}/cancel")
            assert response.status_code == 409, response.text

        @invariant()
        def inventory_agrees_with_the_model(self) -> None:
            end = self.start + dt.timedelta(days=NIGHTS)
            rows = self._run(catalog_factory.fetch(
                "SELECT night, capacity, held, sold FROM inventory WHERE product_id = $1 AND night >= $2"
                " AND night < $3 ORDER BY night", self.room["id"], self.start, end))
            assert [(r["held"], r["sold"]) for r in rows] == [
                (self._count(n), self._count(n, "confirmed")) for n in range(NIGHTS)]
            public = self._run(client.get(f"/products/{self.room['id']}/availability",
                                          params={"start": self.start.isoformat(), "end": end.isoformat()})).json()
            free = [n["free"] for n in public["nights"]]
            assert [f + r["held"] + r["sold"] for f, r in zip(free, rows, strict=True)] == [CAPACITY] * NIGHTS

        @invariant()
        def bookings_and_money_agree_with_the_model(self) -> None:
            rows = self._run(catalog_factory.fetch(
                "SELECT b.id::text AS id, b.status::text AS status, b.total_amount, coalesce(b.cancel_fee, 0) AS fee,"
                " coalesce(sum(p.amount) FILTER (WHERE p.operation = 'capture' AND p.status = 'approved'), 0)"
                " - coalesce(sum(p.amount) FILTER (WHERE p.operation = 'refund' AND p.status = 'approved'), 0)"
                " AS net FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id"
                " WHERE b.id = ANY($1::uuid[]) GROUP BY b.id", list(self.bookings)))
            assert {r["id"]: r["status"] for r in rows} == {b: s for b, (s, _, _) in self.bookings.items()}
            expected = {"confirmed": lambda r: r["total_amount"], "cancelled": lambda r: r["fee"], "failed": lambda r: 0}
            assert [r["id"] for r in rows if r["net"] != expected[r["status"]](r)] == []

    return Bookings


async def test_holds_and_bookings_state_machine(machine: Any) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    await asyncio.to_thread(run_state_machine_as_test, machine, settings=settings(
        max_examples=15, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
