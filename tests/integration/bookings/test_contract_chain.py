"""The document's links chain hold -> booking -> cancellation, and schemathesis's stateful phase follows them.

The api is served over a real socket with the saga's processes running (so bookings confirm and can be
cancelled). Schemathesis runs only its stateful phase over the holds and bookings operations, every check,
valid data only (the main contract test sends the invalid), as a new guest; the configuration gives
``POST /holds`` a real room and a sellable stay, nothing else, and a hook a fresh ``Idempotency-Key`` to
every call (tests/support/fresh_keys.py).
``POST /bookings`` takes the hold's id in its BODY, so the document's links give whole request bodies
(``requestBody``, see app.contract_docs): the run books the holds it made and cancels those bookings.
The evidence is read from PostgreSQL afterwards: the run's holds, bookings of them, and calls to cancel
those bookings (whether the saga had confirmed them yet or not: 202 or 409 ``booking_pending``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import msgspec

from app.settings import Settings
from tests.support.auth import AuthKit, serve_api, subprocess_environment
from tests.support.contract import config_text, run_schemathesis
from tests.support.servers import free_port

SEED = 20261130
EXAMPLES = 100  # scenarios enough to hold, book and cancel; 10-30 s of schemathesis on a quiet machine
ATTEMPTS = 5
CHAIN = r"^/(holds|bookings)"  # the operations of the chain (and their reads and releases)


def _a_sellable_stay(room: dict[str, Any], night: dt.date) -> str:
    """Configuration: ``POST /holds`` asks for a real room and a sellable stay (generated ids and dates
    never name one); everything after the hold comes from the document's links."""
    pinned = {"product_id": str(room["id"]), "check_in": night.isoformat(),
              "check_out": (night + dt.timedelta(days=2)).isoformat(), "rate_plan": "standard", "quantity": 1,
              "guests": 2}
    return "\n[parameters]\n" + "".join(f'"body.{name}" = {json.dumps(value)}\n' for name, value in pinned.items())


async def _evidence(catalog_factory: Any, subject: str) -> dict[str, int]:
    """What the run did as ``subject``: holds, bookings of those holds, calls to cancel those bookings (each
    leaves its idempotency record, whatever the answer) and cancellations that took place."""
    row = (await catalog_factory.fetch(
        """SELECT count(DISTINCT h.id) AS holds, count(DISTINCT b.id) AS bookings,
                  count(DISTINCT k.key) AS cancel_calls,
                  count(DISTINCT b.id) FILTER (WHERE b.status IN ('cancelling', 'cancelled')) AS cancellations
             FROM holds h LEFT JOIN booking_holds bh ON bh.hold_id = h.id LEFT JOIN bookings b ON b.id = bh.booking_id
                  LEFT JOIN idempotency_keys k ON k.scope = 'user:' || h.owner_id
                                              AND k.operation = 'POST /bookings/' || b.id || '/cancel'
            WHERE h.owner_kind = 'user' AND h.owner_id = $1""", subject))[0]
    return dict(row)


async def test_the_stateful_phase_holds_books_and_cancels_through_the_links(
    saga_roles: Any, settings: Settings, stack: object, catalog_resort: Any, catalog_factory: Any,
    auth_kit: AuthKit, tmp_path: Path,
) -> None:
    room = catalog_resort.room
    await catalog_factory.capacity(room["id"], catalog_resort.start, catalog_resort.end, 500)
    subject = f"chain-{uuid.uuid4().hex[:10]}"
    headers, session_id = await auth_kit.sign_in(settings.roles_for_groups(["customers"]), subject, "en-US")
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_text(settings) + _a_sellable_stay(room, catalog_resort.start))
    long_lived = msgspec.structs.replace(settings, access_token_ttl=max(settings.access_token_ttl, 3600))
    runs: list[str] = []
    try:
        with serve_api(subprocess_environment(long_lived), free_port()) as url:
            # Hypothesis decides how many scenarios a run has and where each stops: run again with the next
            # seed until the chain shows, at most ATTEMPTS times (the first run is usually enough).
            for seed in range(SEED, SEED + ATTEMPTS):
                run = await asyncio.to_thread(
                    run_schemathesis, url, headers["Authorization"].removeprefix("Bearer "), config, seed=seed,
                    examples=EXAMPLES, phases="stateful", extra=["--include-path-regex", CHAIN, "--mode", "positive"],
                    hooks="tests.support.fresh_keys")
                start = run.output.find("FAILURES")
                assert run.returncode == 0, run.output[start:][:20000] if start >= 0 else run.output[-6000:]
                runs += [line.strip() for line in run.output.splitlines() if "API Links:" in line or "Scenarios:" in line]
                evidence = await _evidence(catalog_factory, subject)
                if all(evidence[name] > 0 for name in ("holds", "bookings", "cancel_calls")):
                    break
    finally:
        await auth_kit.sessions.revoke(session_id)
    print(f"chain: {evidence}; {'; '.join(runs)}")  # noqa: T201 - the figures, with -s
    assert evidence["holds"] > 0, evidence  # the run held stays (the configured body of POST /holds)
    assert evidence["bookings"] > 0, evidence  # ... booked those holds: hold -> booking, a link into the body
    assert evidence["cancel_calls"] > 0, evidence  # ... and cancelled those bookings: booking -> cancellation
