"""``Idempotency-Key`` for unsafe booking calls, one mechanism for every route that needs it.

    async def effect(ticket: Ticket) -> StoredAnswer:
        hold = await service.create_hold(..., within=lambda conn, h: ticket.record(conn, answer_of(h)))
        return answer_of(hold)
    return await idempotent(request, resources, "POST /holds", effect)

- no key: 400 ``idempotency_key_missing``; a malformed one: 400 ``idempotency_key_invalid``;
- the same key with another body (or operation): 422 ``idempotency_key_reused``;
- the same key while the first request still runs: 409 ``idempotency_in_flight`` + ``Retry-After``;
- after completion: the stored answer (status, body, ``Location``), errors included, with
  ``Idempotent-Replayed: true``; keys are scoped to the caller and kept ``idempotency_retention_s``.
- Answers that say "try again" (429, 5xx, 503 ``busy``) are not stored: the key is let go, a retry runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response

from app.auth.principal import current_principal
from app.errors import PROBLEM_JSON, AppError, BadRequest, Conflict, ValidationFailed, problem_body
from app.idempotency import store
from app.idempotency.keys import HEADER, KeyError_, fingerprint, parse_key
from app.idempotency.store import StoredAnswer
from app.resources import Resources

REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True, slots=True)
class Ticket:
    """The claim of one request on its key; ``record`` stores the answer in the effect's transaction."""

    scope: str
    key: str
    fence: int = 1

    async def record(self, conn: asyncpg.Connection, answer: StoredAnswer) -> None:
        await store.complete(conn, self.scope, self.key, answer, self.fence)


Effect = Callable[[Ticket], Awaitable[StoredAnswer]]


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> StoredAnswer:
    """An answer with a JSON body, ready to store and to send."""
    return StoredAnswer(status, msgspec.json.encode(body), {"Content-Type": "application/json", **(headers or {})})


def to_response(answer: StoredAnswer, replayed: bool = False) -> Response[bytes]:
    headers = {k: v for k, v in answer.headers.items() if k != "Content-Type"}
    if replayed:
        headers[REPLAYED] = "true"
    return Response(answer.body, status_code=answer.status, headers=headers,
                    media_type=answer.headers.get("Content-Type", "application/json"))


def _key_of(request: Request[Any, Any, Any]) -> str:
    try:
        return parse_key(request.headers.get(HEADER))
    except KeyError_ as exc:
        raise BadRequest(str(exc), code=exc.code) from None


async def _claim(request: Request[Any, Any, Any], resources: Resources, operation: str) -> tuple[Ticket, Any]:
    principal = current_principal(request)
    scope = principal.actor if principal else "anonymous"
    key = _key_of(request)
    settings = resources.settings
    claimed = await store.claim(resources.db, scope, key, operation, fingerprint(operation, await request.body()),
                                settings.idempotency_lock_s, settings.idempotency_retention_s)
    if isinstance(claimed, int):
        return Ticket(scope, key, claimed), None
    return Ticket(scope, key), claimed


def _refuse_existing(existing: store.Existing) -> None:
    if not existing.same:
        raise ValidationFailed("this Idempotency-Key was used with another request body",
                               code="idempotency_key_reused")
    if existing.answer is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly",
                       code="idempotency_in_flight", headers={"Retry-After": "1"})


async def _store_error(request: Request[Any, Any, Any], resources: Resources, ticket: Ticket,
                       exc: AppError) -> StoredAnswer:
    body = problem_body(request, exc.status, exc.code, exc.title, exc.detail, exc.extra)
    return await keep(resources, ticket, StoredAnswer(exc.status, msgspec.json.encode(body),
                                                      {"Content-Type": PROBLEM_JSON, **exc.headers}))


async def keep(resources: Resources, ticket: Ticket, answer: StoredAnswer) -> StoredAnswer:
    """Store ``answer`` for the ticket's key on its own: for an effect of several transactions, each safe to run
    again (a crash before this lets a retry run the effect again, to the same answer)."""
    async with resources.db.acquire() as conn:
        await ticket.record(conn, answer)
    return answer


async def idempotent(request: Request[Any, Any, Any], resources: Resources, operation: str,
                     effect: Effect) -> Response[bytes]:
    """Run ``effect`` once per (caller, key); replay its answer to every retry."""
    ticket, existing = await _claim(request, resources, operation)
    if existing is not None:
        _refuse_existing(existing)
        return to_response(existing.answer, replayed=True)
    try:
        try:
            answer = await effect(ticket)
        except AppError as exc:
            if exc.status == 429 or exc.status >= 500:
                await asyncio.shield(store.release(resources.db, ticket.scope, ticket.key, ticket.fence))
                raise
            return to_response(await _store_error(request, resources, ticket, exc))
        except BaseException:
            await asyncio.shield(store.release(resources.db, ticket.scope, ticket.key, ticket.fence))
            raise
    except store.Fenced:  # a retry took this key over while we were slow; its answer is the one kept
        raise Conflict("a later request with this Idempotency-Key took it over; retry to read its answer",
                       code="idempotency_taken_over", headers={"Retry-After": "1"}) from None
    return to_response(answer)
