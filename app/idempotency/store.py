"""Idempotency records in PostgreSQL: claimed before the effect, completed IN the effect's transaction.

A record is ``running`` while its first request works (until ``locked_until``: a request that crashed
before committing is then taken over by a retry, and fenced: each claim gets the next ``fence``, and only
the holder of the current one can commit its answer, so a first request that was only slow fails at commit) and ``done`` with the stored answer once the effect
committed. Records live ``idempotency_retention_s`` (24 h by default); the sweeper deletes expired ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import asyncpg

_CLAIM = """
INSERT INTO idempotency_keys (scope, key, operation, fingerprint, locked_until, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), now() + make_interval(secs => $6))
ON CONFLICT (scope, key) DO UPDATE SET
    operation = EXCLUDED.operation, fingerprint = EXCLUDED.fingerprint, status = 'running',
    response_status = NULL, response_body = NULL, response_headers = '{}', created_at = now(),
    locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at, fence = idempotency_keys.fence + 1
WHERE idempotency_keys.expires_at < now()
   OR (idempotency_keys.status = 'running' AND idempotency_keys.locked_until < now()
       AND idempotency_keys.fingerprint = EXCLUDED.fingerprint)
RETURNING fence
"""
_READ = """
SELECT operation, fingerprint, status, response_status, response_body, response_headers::text AS headers
FROM idempotency_keys WHERE scope = $1 AND key = $2
"""
_COMPLETE = """
UPDATE idempotency_keys SET status = 'done', response_status = $3, response_body = $4,
       response_headers = $5::jsonb
WHERE scope = $1 AND key = $2 AND fence = $6 AND status = 'running'
RETURNING true
"""


class Fenced(RuntimeError):
    """The key was taken over by a later request: this one must not commit its effect."""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Existing:
    """A key already claimed: by the same request (``same``) or another; its answer if it is done."""

    same: bool
    answer: StoredAnswer | None


async def claim(db: asyncpg.Pool | asyncpg.Connection, scope: str, key: str, operation: str,
                fingerprint: bytes, lock_s: int, retention_s: int) -> Existing | int:
    """Claim the key for this request (its fence), or describe the record that holds it."""
    fence = await db.fetchval(_CLAIM, scope, key, operation, fingerprint, float(lock_s), float(retention_s))
    if fence is not None:
        return int(fence)
    row = await db.fetchrow(_READ, scope, key)
    if row is None:  # deleted between the two statements (a failed first request let go): try again
        return await claim(db, scope, key, operation, fingerprint, lock_s, retention_s)
    same = row["operation"] == operation and bytes(row["fingerprint"]) == fingerprint
    answer = None
    if row["status"] == "done":
        answer = StoredAnswer(row["response_status"], bytes(row["response_body"]), json.loads(row["headers"]))
    return Existing(same, answer)


async def complete(conn: asyncpg.Connection, scope: str, key: str, answer: StoredAnswer, fence: int) -> None:
    """Store the final answer; call it inside the transaction that made the effect. Raises :class:`Fenced`
    (so that transaction rolls back) when a later request took the key over meanwhile."""
    if not await conn.fetchval(_COMPLETE, scope, key, answer.status, answer.body, json.dumps(answer.headers), fence):
        raise Fenced(f"idempotency key {key!r} was taken over")


async def release(db: asyncpg.Pool, scope: str, key: str, fence: int) -> None:
    """Let go of a claim whose request ended without an answer worth keeping (busy, 5xx): a retry runs.
    Only this request's own claim: never one a later request took over."""
    await db.execute("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'running'"
                     " AND fence = $3", scope, key, fence)


async def purge_expired(db: asyncpg.Pool, limit: int) -> int:
    status = await db.execute(
        "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY("
        "SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT $1))", limit)
    return int(status.rsplit(" ", 1)[1])
