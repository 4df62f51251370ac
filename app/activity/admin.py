"""Operator commands of the activity feature (``resort forget``)."""

from __future__ import annotations

from pymongo import AsyncMongoClient

from app.activity import store
from app.settings import Settings


async def forget_subject(settings: Settings, subject: str) -> int:
    """Delete ``subject``'s activity and take it out of the rollups; how many events were deleted."""
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=3000, tz_aware=True)
    try:
        return await store.forget(client, client[settings.mongo_db], subject)
    finally:
        await client.close()
