"""No card token (nor number, nor CVC) reaches our stores, our messages or our logs: after bookings
paid, declined and refunded with the sandbox's test cards, PostgreSQL, MongoDB, Redis, Kafka and the
roles' logs are searched for every test card value."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from bson import json_util
from pymongo import AsyncMongoClient

from app.payments.sandbox.cards import CARDS
from tests.integration.bookings.test_cancellation import _cancel, _confirmed
from tests.integration.bookings.test_saga import _book, _hold, _settled

SECRETS = [*CARDS, "4242424242424242", "4000000000000002"]


def _found(blob: str) -> list[str]:
    return [value for value in SECRETS if value in blob]


def _postgres(url: str) -> str:
    parts = urlsplit(url)
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    return subprocess.run([pg_dump, "--data-only", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
                           "-U", parts.username or "postgres", parts.path.lstrip("/")],
                          capture_output=True, text=True, check=True, timeout=120).stdout


async def _mongo(settings: Any) -> str:
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_url)
    try:
        db = client[settings.mongo_db]
        return "".join([json_util.dumps([d async for d in db[name].find({})])
                        for name in await db.list_collection_names()])
    finally:
        await client.close()


async def _redis(url: str) -> str:
    client = aioredis.from_url(url)
    out: list[str] = []
    try:
        async for key in client.scan_iter(count=1000):
            kind = (await client.type(key)).decode()
            read = {"string": client.get, "hash": client.hgetall, "list": lambda k: client.lrange(k, 0, -1),
                    "set": client.smembers, "zset": lambda k: client.zrange(k, 0, -1),
                    "stream": lambda k: client.xrange(k)}.get(kind)
            out.append(f"{key!r}={await read(key)!r}" if read else repr(key))
    finally:
        await client.aclose()
    return "\n".join(out)


async def _kafka(bootstrap: str, prefixes: tuple[str, ...]) -> str:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: list[str] = []
    try:
        parts = [TopicPartition(t, p) for t in await consumer.topics() if t.startswith(prefixes)
                 for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for messages in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                out += [repr(m.key) + repr(m.value) for m in messages]
    finally:
        await consumer.stop()
    return "\n".join(out)


async def test_no_card_value_is_stored_sent_or_logged(
    saga_roles: Any, client: Any, settings: Any, catalog_resort: Any, guest_headers: dict[str, str]
) -> None:
    refunded = await _confirmed(client, guest_headers, catalog_resort, "tok_refund_flaky")
    assert (await _cancel(client, guest_headers, refunded["id"])).status_code == 202
    await _settled(client, guest_headers, refunded["id"])
    hold_id = await _hold(client, guest_headers, catalog_resort.room, catalog_resort.start)
    await _settled(client, guest_headers, (await _book(client, guest_headers, [hold_id], "tok_decline")).json()["id"])

    prefix = saga_roles.env["RESORT_KAFKA_TOPIC_PREFIX"]
    began = time.monotonic()
    places = {
        "postgresql": await asyncio.to_thread(_postgres, settings.database_url),
        "mongodb": await _mongo(settings),
        "redis": await _redis(settings.redis_url),
        "kafka": await _kafka(settings.kafka_bootstrap, (prefix, settings.kafka_topic_prefix)),
        "logs": "".join(p.read_text(errors="replace") for p in Path(saga_roles.log_dir).glob("*.log")),
    }
    print(f"\nsearched {sum(map(len, places.values())) / 1e6:.1f} MB in {time.monotonic() - began:.1f}s:",
          {name: len(blob) for name, blob in places.items()})
    assert all(places.values()), [name for name, blob in places.items() if not blob]  # each place was read
    assert {name: _found(blob) for name, blob in places.items() if _found(blob)} == {}
    assert "booking.cancelled" in places["kafka"] and refunded["id"] in places["postgresql"]
