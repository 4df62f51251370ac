"""Operator commands of the activity feature (``resort forget``, ``resort activity check``)."""

from __future__ import annotations

import datetime as dt

import asyncpg
from pymongo import AsyncMongoClient

from app.activity import check, store
from app.settings import Settings


async def forget_subject(settings: Settings, subject: str) -> int:
    """Delete ``subject``'s activity and take it out of the rollups; how many events were deleted."""
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=3000, tz_aware=True)
    try:
        return await store.forget(client, client[settings.mongo_db], subject)
    finally:
        await client.close()


async def check_bookings(settings: Settings, property_id: str, start: dt.date, end: dt.date) -> check.CheckReport:
    """The rollups of one resort's bookings against PostgreSQL (see ``app.activity.check``)."""
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=3000, tz_aware=True)
    db = await asyncpg.connect(settings.database_url)
    try:
        return await check.check(db, client[settings.mongo_db], property_id, start, end)
    finally:
        await db.close()
        await client.close()
