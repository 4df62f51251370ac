"""A Hypothesis state machine of holds against the real PostgreSQL and Redis: random places, releases,
expiries and bookings' conversions, with the inventory checked against a model after every step."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.auth.principal import Principal
from app.errors import ServiceUnavailable
from app.holds.domain import HoldRefused, HoldRequest
from app.holds.service import HoldService
from app.holds.sweeper import sweep

CAPACITY = 3


async def _nothing(conn: Any, hold: Any) -> None:
    return None


@pytest.fixture
async def machine(sync_resources: Any, catalog_factory: Any, catalog_resort: Any) -> Any:
    loop = asyncio.get_running_loop()
    room, start = catalog_resort.room, catalog_resort.start
    loop_run = asyncio.run_coroutine_threadsafe

    class Holds(RuleBasedStateMachine):
        """Model: per night, the units of live holds; PostgreSQL must always agree and never exceed."""

        def __init__(self) -> None:
            super().__init__()
            self.service = HoldService(sync_resources)
            self.live: dict[str, tuple[int, int, int]] = {}  # hold id -> (first night, nights, units)
            self.owners: dict[str, Principal] = {}
            self.nights = [start + dt.timedelta(days=20 + i) for i in range(3)]
            self._run(self._reset())

        def _run(self, coro: Any) -> Any:
            return loop_run(coro, loop).result(30)

        async def _reset(self) -> None:
            await sync_resources.db.execute(
                "UPDATE holds SET status = 'released', ended_at = now() WHERE product_id = $1 AND status = 'held'",
                room["id"])
            await sync_resources.db.execute(
                "INSERT INTO inventory (product_id, night, capacity) SELECT $1, n, $2 FROM unnest($3::date[]) n"
                " ON CONFLICT (product_id, night) DO UPDATE SET capacity = $2, held = 0, sold = 0",
                room["id"], CAPACITY, self.nights)
            # capacity set behind the service's back: forget the sold-out marks of the previous example
            await sync_resources.redis.delete(*[f"hold:soldout:{room['id']}:{n.isoformat()}" for n in self.nights])

        def _model(self, night: int) -> int:
            return sum(u for first, count, u in self.live.values() if first <= night < first + count)

        @rule(first=st.integers(0, 2), count=st.integers(1, 3), units=st.integers(1, 3))
        def place(self, first: int, count: int, units: int) -> None:
            count = min(count, 3 - first)
            request = HoldRequest(str(room["id"]), self.nights[first], self.nights[first] + dt.timedelta(days=count),
                                  units, units)
            fits = all(self._model(n) + units <= CAPACITY for n in range(first, first + count))
            principal = Principal(subject=f"sm-{uuid.uuid4().hex[:8]}", kind="user", roles=("guest",))
            try:
                hold = self._run(self.service.create(principal, request, _nothing))
            except HoldRefused as exc:
                assert exc.code == "sold_out" and not fits, (exc.code, fits)
                return
            except ServiceUnavailable:
                return
            assert fits
            self.live[str(hold["id"])] = (first, count, units)
            self.owners[str(hold["id"])] = principal

        @precondition(lambda self: self.live)
        @rule(data=st.data(), how=st.sampled_from(["released", "expired"]))
        def finish(self, data: Any, how: str) -> None:
            hold_id = data.draw(st.sampled_from(sorted(self.live)))
            self._run(self._finish(hold_id, how))
            del self.live[hold_id]

        async def _finish(self, hold_id: str, how: str) -> None:
            if how == "expired":
                await sync_resources.db.execute("UPDATE holds SET expires_at = now() WHERE id = $1",
                                                uuid.UUID(hold_id))
                await sweep(sync_resources.db, self.service, 50)
                return
            await self.service.release(self.owners[hold_id], hold_id)

        @invariant()
        def postgres_agrees_with_the_model(self) -> None:
            rows = self._run(sync_resources.db.fetch(
                "SELECT night, held, sold, capacity FROM inventory WHERE product_id = $1 AND night = ANY($2::date[])"
                " ORDER BY night", room["id"], self.nights))
            assert [r["held"] for r in rows] == [self._model(n) for n in range(3)]
            assert all(r["held"] + r["sold"] <= r["capacity"] for r in rows)

    return Holds


async def test_holds_state_machine(machine: Any) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    await asyncio.to_thread(run_state_machine_as_test, machine, settings=settings(
        max_examples=15, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
