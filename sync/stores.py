"""Version-aware writes of the projection: the Elasticsearch document and the MongoDB read model.

Elasticsearch: compare-and-set on ``_seq_no``/``_primary_term`` (noida-db also honours
``version_type=external``, but external versions cannot overwrite a document at the same version, which
a review-only refresh and the repair of a tampered document both need). A document whose ``version`` is
newer than ours is never overwritten; one with the same content is left alone.

MongoDB: the read model and the inbox entry of the message are written in one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from typing import Any

from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient
from pymongo.errors import AutoReconnect

READ_MODELS = "product_read_models"
INBOX = "projector_inbox"
_CAS_ATTEMPTS = 5


class Outcome(enum.StrEnum):
    WRITTEN = "written"
    UNCHANGED = "unchanged"
    STALE = "stale"
    DELETED = "deleted"
    ABSENT = "absent"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def write_search_document(es: AsyncElasticsearch, index: str, document: dict[str, Any],
                                *, refresh: bool | str = False) -> Outcome:
    """Index ``document`` unless Elasticsearch holds a newer version or the same content."""
    doc_id = document["product_id"]
    for _ in range(_CAS_ATTEMPTS):
        try:
            current = await es.get(index=index, id=doc_id)
        except NotFoundError:
            current = None
        try:
            if current is None:
                await es.index(index=index, id=doc_id, document=document, op_type="create", refresh=refresh)
                return Outcome.WRITTEN
            source = current["_source"]
            document = _keeping_popularity(document, source)
            if int(source.get("version") or 0) > document["version"]:
                return Outcome.STALE
            if source == document:
                return Outcome.UNCHANGED
            await es.index(index=index, id=doc_id, document=document, refresh=refresh,
                           if_seq_no=current["_seq_no"], if_primary_term=current["_primary_term"])
            return Outcome.WRITTEN
        except ConflictError:
            continue  # someone wrote meanwhile: read again and decide again
    raise RuntimeError(f"search document {doc_id} kept changing under compare-and-set")


def _keeping_popularity(document: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The stored popularity wins over the one the projection read: the activity role keeps it up to date
    (a value it wrote while this projection was being built is newer than the one the projection read)."""
    if "popularity" in stored:
        return {**document, "popularity": stored["popularity"]}
    return document


async def delete_search_document(es: AsyncElasticsearch, index: str, product_id: str,
                                 *, refresh: bool | str = False) -> Outcome:
    try:
        await es.delete(index=index, id=product_id, refresh=refresh)
    except NotFoundError:
        return Outcome.ABSENT
    return Outcome.DELETED


async def inbox_entry(mongo: AsyncDatabase, consumer: str, message_id: str) -> dict[str, Any] | None:
    return await mongo[INBOX].find_one({"_id": f"{consumer}:{message_id}"})


async def read_model_version(mongo: AsyncDatabase, product_id: str) -> int | None:
    found = await mongo[READ_MODELS].find_one({"product_id": product_id}, {"version": 1})
    return None if found is None else int(found.get("version") or 0)


async def write_read_model(client: AsyncMongoClient, mongo: AsyncDatabase, model: dict[str, Any] | None,
                           product_id: str, inbox: tuple[str, str] | None) -> Outcome:
    """Upsert (or, for ``model=None``, delete) the read model and record the inbox entry, atomically.

    A stored read model with a higher version is kept (``STALE``); the inbox entry is still written.
    """
    async with client.start_session() as session, await session.start_transaction():
        outcome = await _apply_read_model(mongo, model, product_id, session)
        if inbox is not None:
            consumer, message_id = inbox
            await mongo[INBOX].update_one(
                {"_id": f"{consumer}:{message_id}"},
                {"$setOnInsert": {"consumer": consumer, "message_id": message_id, "processed_at": _now(),
                                  "effects_done": False}},
                upsert=True, session=session,
            )
    return outcome


async def _apply_read_model(mongo: AsyncDatabase, model: dict[str, Any] | None, product_id: str,
                            session: Any) -> Outcome:
    collection = mongo[READ_MODELS]
    current = await collection.find_one({"product_id": product_id}, session=session)
    if model is None:
        if current is None:
            return Outcome.ABSENT
        await collection.delete_one({"_id": current["_id"]}, session=session)
        return Outcome.DELETED
    if current is not None and int(current.get("version") or 0) > model["version"]:
        return Outcome.STALE
    if current is not None and all(current.get(k) == v for k, v in model.items()):
        return Outcome.UNCHANGED
    await collection.replace_one({"product_id": product_id}, {**model, "projected_at": _now()},
                                 upsert=True, session=session)
    return Outcome.WRITTEN


async def record_inbox(mongo: AsyncDatabase, consumer: str, message_id: str) -> None:
    """An inbox entry for a message that has no effect (a stale event)."""
    await mongo[INBOX].update_one(
        {"_id": f"{consumer}:{message_id}"},
        {"$setOnInsert": {"consumer": consumer, "message_id": message_id, "processed_at": _now(),
                          "effects_done": True}},
        upsert=True,
    )


async def mark_effects_done(mongo: AsyncDatabase, consumer: str, message_id: str) -> None:
    await mongo[INBOX].update_one({"_id": f"{consumer}:{message_id}"}, {"$set": {"effects_done": True}})


async def ensure_inbox_indexes(mongo: AsyncDatabase, ttl_s: int = 14 * 24 * 3600, attempts: int = 3) -> None:
    """The inbox's TTL index. A connection that dropped (a MongoDB restart, a request cut off in this process)
    fails the first command on it and pymongo opens a fresh one; index creation is not retried by the driver,
    so it is retried here, a bounded number of times."""
    for attempt in range(1, attempts + 1):
        try:
            await mongo[INBOX].create_index("processed_at", expireAfterSeconds=ttl_s)
            return
        except AutoReconnect:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.1 * attempt)
