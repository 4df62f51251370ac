"""One real round trip per dependency, each bounded by a timeout."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.resources import Resources

# The IdP is "degraded", not "down", for the api's readiness: existing sessions keep working without it.
SOFT_DEPENDENCIES = frozenset({"idp"})


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        status = "ok" if self.ok else ("degraded" if self.name in SOFT_DEPENDENCIES else "down")
        out: dict[str, object] = {"status": status, "latency_ms": round(self.latency_ms, 2)}
        if self.error:
            out["error"] = self.error
        return out


async def check_postgres(res: Resources) -> None:
    async with res.db.acquire(timeout=res.settings.health_timeout_s) as conn:
        await conn.fetchval("SELECT 1")


async def check_redis(res: Resources) -> None:
    if not await res.redis.ping():
        raise RuntimeError("PING not answered")


async def check_mongodb(res: Resources) -> None:
    await res.mongo.admin.command("ping")


async def check_elasticsearch(res: Resources) -> None:
    # An index check: the call answers with the index's presence, not just a TCP accept.
    await res.es.indices.exists(index=res.settings.search_index)


async def check_kafka(res: Resources) -> None:
    """Produce a unique message on the health topic, then read that very offset back."""
    topic = res.settings.topic("health")
    nonce = uuid.uuid4().bytes
    meta = await res.kafka.send_and_wait(topic, nonce, partition=0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=res.settings.kafka_bootstrap, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        while True:
            batch = await consumer.getmany(tp, timeout_ms=500)
            if any(record.value == nonce for record in batch.get(tp, [])):
                return
    finally:
        await consumer.stop()


async def check_idp(res: Resources) -> None:
    url = res.settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = await res.http.get(url)
    response.raise_for_status()
    if response.json().get("issuer") != res.settings.oidc_issuer:
        raise RuntimeError("discovery document names another issuer")


CHECKS: dict[str, Callable[[Resources], Awaitable[None]]] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "kafka": check_kafka,
    "mongodb": check_mongodb,
    "elasticsearch": check_elasticsearch,
    "idp": check_idp,
}


async def _timed(name: str, check: Callable[[Resources], Awaitable[None]], res: Resources) -> CheckResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(res), timeout=res.settings.health_timeout_s)
    except Exception as exc:  # noqa: BLE001 - any failure is the dependency's status, never the probe's crash
        error = "timeout" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"[:300]
        return CheckResult(name, False, (time.perf_counter() - started) * 1000, error)
    return CheckResult(name, True, (time.perf_counter() - started) * 1000)


async def run_checks(res: Resources) -> list[CheckResult]:
    return list(await asyncio.gather(*(_timed(n, c, res) for n, c in CHECKS.items())))
