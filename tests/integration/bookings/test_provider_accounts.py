"""The sandbox provider keeps each secret key's books apart, as Stripe keeps accounts apart: a key never sees,
lists, refunds or replays another key's objects (two deployments, or two test sessions, on one sandbox)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest


@pytest.fixture
async def sandbox(settings: Any) -> Any:
    async with httpx.AsyncClient(base_url=settings.payment_provider_url, timeout=10) as http:
        yield http


def _key() -> dict[str, str]:
    return {"Authorization": f"Bearer sk_test_{uuid.uuid4().hex}"}


async def _intent(http: httpx.AsyncClient, key: dict[str, str], idempotency: str, amount: int = 5000) -> Any:
    return await http.post("/v1/payment_intents", headers=key | {"Idempotency-Key": idempotency},
                           data={"amount": amount, "currency": "krw", "payment_method": "tok_visa",
                                 "capture_method": "manual"})


async def test_a_key_sees_only_its_own_intents(sandbox: httpx.AsyncClient) -> None:
    mine, theirs = _key(), _key()
    created = (await _intent(sandbox, mine, uuid.uuid4().hex)).json()
    assert (await sandbox.get(f"/v1/payment_intents/{created['id']}", headers=mine)).status_code == 200
    foreign = await sandbox.get(f"/v1/payment_intents/{created['id']}", headers=theirs)
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "resource_missing")
    listed = (await sandbox.get("/v1/payment_intents", headers=theirs, params={"limit": 100})).json()["data"]
    assert listed == []
    confirm = await sandbox.post(f"/v1/payment_intents/{created['id']}/confirm", headers=theirs)
    assert confirm.status_code == 404


async def test_idempotency_keys_are_each_accounts_own(sandbox: httpx.AsyncClient) -> None:
    mine, theirs, key = _key(), _key(), uuid.uuid4().hex
    first = await _intent(sandbox, mine, key, amount=5000)
    other = await _intent(sandbox, theirs, key, amount=7000)  # the same key, another account: a new intent
    again = await _intent(sandbox, mine, key, amount=5000)
    assert (other.status_code, other.json()["amount"]) == (200, 7000)
    assert other.json()["id"] != first.json()["id"]
    assert (again.json()["id"], again.headers.get("idempotent-replayed")) == (first.json()["id"], "true")
