"""Faults while the workload runs: each kind once in turn, then at random; every one on the timeline."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from redis.asyncio import Redis

from bench.faults.stack import FaultStack

KINDS = ("kill", "pause", "redis_restart", "redis_flush", "kafka_restart", "pg_terminate", "duplicates")
_PAUSE_S = 2.0  # past the 1 s lock TTL of the run


@dataclass
class Fault:
    kind: str
    target: str
    at: float
    until: float = 0.0


@dataclass
class Nemesis:
    stack: FaultStack
    database_url: str
    began: float
    timeline: list[Fault] = field(default_factory=list)

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        order = list(KINDS)
        while not stop.is_set():
            kind = order.pop(0) if order else random.choice(KINDS)
            fault = Fault(kind, "", time.monotonic() - self.began)
            try:
                await getattr(self, f"_{kind}")(fault)
            except Exception as exc:  # noqa: BLE001 - a fault that could not be injected is reported
                fault.target = f"failed: {exc!r}"
            fault.until = time.monotonic() - self.began
            self.timeline.append(fault)
            await asyncio.sleep(interval)

    def _victim(self, apis_too: bool = True) -> str:
        names = [n for n in self.stack.procs if apis_too or not n.startswith("api")]
        return random.choice(names)

    async def _kill(self, fault: Fault) -> None:
        fault.target = self._victim()
        await asyncio.to_thread(self.stack.kill, fault.target)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(self.stack.revive)

    async def _pause(self, fault: Fault) -> None:
        fault.target = self._victim()
        self.stack.signal(fault.target, signal.SIGSTOP)
        await asyncio.sleep(_PAUSE_S)
        self.stack.signal(fault.target, signal.SIGCONT)

    async def _redis_restart(self, fault: Fault) -> None:
        fault.target = "redis"
        await asyncio.to_thread(self.stack.restart_server, self.stack.redis)

    async def _redis_flush(self, fault: Fault) -> None:
        fault.target = "redis"
        redis = Redis.from_url(self.stack.env["RESORT_REDIS_URL"])
        try:
            await redis.flushall()
        finally:
            await redis.aclose()

    async def _kafka_restart(self, fault: Fault) -> None:
        fault.target = "kafka (its messages lost)"
        await asyncio.to_thread(self.stack.restart_server, self.stack.kafka)

    async def _pg_terminate(self, fault: Fault) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            count = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()")
        finally:
            await conn.close()
        fault.target = f"{count} PostgreSQL connections"

    async def _duplicates(self, fault: Fault) -> None:
        """Every message of the last 10 seconds delivered again (what rewound consumer offsets do)."""
        conn = await asyncpg.connect(self.database_url)
        try:
            status = await conn.execute("UPDATE outbox SET published_at = NULL"
                                        " WHERE published_at > now() - interval '10 seconds'")
        finally:
            await conn.close()
        fault.target = f"{status.rsplit(' ', 1)[1]} messages again"


async def supervise(stack: FaultStack, stop: asyncio.Event) -> None:
    """Restart whatever died (as `resort up` and a real deployment do)."""
    while not stop.is_set():
        await asyncio.to_thread(stack.revive)
        await asyncio.sleep(0.5)


def describe(timeline: list[Fault]) -> list[dict[str, Any]]:
    return [{"kind": f.kind, "target": f.target, "at": round(f.at, 2), "until": round(f.until, 2)} for f in timeline]
