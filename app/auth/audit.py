"""Every auth event: one audit row (who, what, when, from where), one log line, one Prometheus count.

Rows are written by a background writer in batches so that a burst of refusals never slows the
gateway; ``flush()`` waits until everything queued so far is written (tests, shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter

log = structlog.get_logger("app.auth")

AUTH_EVENTS = Counter("resort_auth_events_total", "Auth events by action and outcome", ["action", "outcome"])
AUTH_REFUSALS = Counter("resort_auth_refusals_total", "Requests refused by the gateway", ["reason"])
AUDIT_DROPPED = Counter("resort_auth_audit_dropped_total", "Audit rows dropped because the queue was full")

_INSERT = (
    "INSERT INTO audit_log (actor, client_id, action, outcome, ip, user_agent, detail)"
    " VALUES ($1, $2, $3, $4, $5::inet, $6, $7::jsonb)"
)
_QUEUE_MAX = 10_000
_BATCH = 200


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class AuditTrail:
    """Queue of audit rows and the task that writes them."""

    def __init__(self, db: asyncpg.Pool) -> None:
        self.db = db
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue(_QUEUE_MAX)
        self._task: asyncio.Task[None] | None = None

    def record(self, action: str, outcome: str, *, actor: str | None = None, client_id: str | None = None,
               ip: str | None = None, user_agent: str | None = None, **detail: Any) -> None:
        AUTH_EVENTS.labels(action, outcome).inc()
        log.info("auth_event", action=action, outcome=outcome, actor=actor, client_id=client_id, ip=ip, **detail)
        row = (actor, client_id, action, outcome, _ip(ip), (user_agent or "")[:300] or None,
               json.dumps(detail, default=str))
        try:
            self.queue.put_nowait(row)
        except asyncio.QueueFull:
            AUDIT_DROPPED.inc()

    async def _write(self, rows: list[tuple[Any, ...]]) -> None:
        try:
            async with self.db.acquire() as conn:
                await conn.executemany(_INSERT, rows)
        except Exception as exc:  # noqa: BLE001 - the audit writer must outlive a database hiccup
            log.error("audit_write_failed", error=str(exc), rows=len(rows))

    async def _run(self) -> None:
        while True:
            rows = [await self.queue.get()]
            while len(rows) < _BATCH and not self.queue.empty():
                rows.append(self.queue.get_nowait())
            await self._write(rows)
            for _ in rows:
                self.queue.task_done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="auth-audit-writer")

    async def flush(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            await self.queue.join()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.flush(timeout=3.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
