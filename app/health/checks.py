"""One real round trip per dependency, each bounded by a timeout.

Only PostgreSQL and Redis are *required*: without them the api can serve nothing, so their failure takes it
out of the load balancer (503). Every other dependency failing is *degraded* (200): search, the change feed,
details or new logins suffer, but bookings and existing sessions go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.resources import Resources

REQUIRED = ("postgres", "redis")


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None

    @property
    def status(self) -> str:
        return "ok" if self.ok else ("down" if self.name in REQUIRED else "degraded")

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"status": self.status, "latency_ms": round(self.latency_ms, 2)}
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


async def check_idp(res: Resources) -> None:
    url = res.settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = await res.http.get(url)
    response.raise_for_status()
    if response.json().get("issuer") != res.settings.oidc_issuer:
        raise RuntimeError("discovery document names another issuer")


class KafkaProbe:
    """Produce a unique message on the health topic and read that very offset back, with ONE consumer kept
    for the process (opened at the first check, replaced after a failure), not one per probe."""

    def __init__(self) -> None:
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()
        self.consumers_opened = 0

    async def _open(self, res: Resources, tp: TopicPartition) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=res.settings.kafka_bootstrap, enable_auto_commit=False,
                                        group_id=None)
            await consumer.start()
            consumer.assign([tp])
            self._consumer = consumer
            self.consumers_opened += 1
        return self._consumer

    async def __call__(self, res: Resources) -> None:
        async with self._lock:
            topic = res.settings.topic("health")
            tp, nonce = TopicPartition(topic, 0), uuid.uuid4().bytes
            try:
                meta = await res.kafka.send_and_wait(topic, nonce, partition=0)
                consumer = await self._open(res, tp)
                consumer.seek(tp, meta.offset)
                while True:
                    batch = await consumer.getmany(tp, timeout_ms=500)
                    if any(record.value == nonce for record in batch.get(tp, [])):
                        return
            except BaseException:
                await self.close()  # a broken connection is not reused; the next check opens a new one
                raise

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()


Check = Callable[[Resources], Awaitable[None]]


async def _timed(name: str, check: Check, res: Resources) -> CheckResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(res.settings.health_timeout_s):
            await check(res)
    except Exception as exc:  # noqa: BLE001 - any failure is the dependency's status, never the probe's crash
        error = "timeout" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"[:300]
        return CheckResult(name, False, (time.perf_counter() - started) * 1000, error)
    return CheckResult(name, True, (time.perf_counter() - started) * 1000)


class Readiness:
    """The api's readiness: the cheap public answer (required dependencies only, cached for
    ``health_cache_ms`` so a flood of probes costs one round trip each per period) and the operators' full
    report (every dependency)."""

    def __init__(self, res: Resources) -> None:
        self.res = res
        self.kafka = KafkaProbe()
        self.checks: dict[str, Check] = {
            "postgres": check_postgres, "redis": check_redis, "kafka": self.kafka, "mongodb": check_mongodb,
            "elasticsearch": check_elasticsearch, "idp": check_idp,
        }
        self._cached: tuple[float, list[CheckResult]] | None = None
        self._lock = asyncio.Lock()

    async def _run(self, names: tuple[str, ...]) -> list[CheckResult]:
        return list(await asyncio.gather(*(_timed(n, self.checks[n], self.res) for n in names)))

    async def required(self) -> list[CheckResult]:
        async with self._lock:  # concurrent probes share one round trip
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.res.settings.health_cache_ms / 1000:
                self._cached = (now, await self._run(REQUIRED))
            return self._cached[1]

    async def everything(self) -> list[CheckResult]:
        return await self._run(tuple(self.checks))

    async def close(self) -> None:
        await self.kafka.close()
