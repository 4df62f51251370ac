"""Every pool and client a process role needs, opened and closed together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg
import httpx
import structlog
from aiokafka import AIOKafkaProducer
from beanie import Document
from elasticsearch import AsyncElasticsearch
from pymongo import AsyncMongoClient
from redis.asyncio import BlockingConnectionPool, Redis

from app.db.documents import bind_documents, unbind_documents
from app.redis_connection import Connection
from app.settings import Settings

log = structlog.get_logger("app.resources")


@dataclass(slots=True)
class Resources:
    settings: Settings
    db: asyncpg.Pool
    redis: Redis
    mongo: AsyncMongoClient
    es: AsyncElasticsearch
    kafka: AIOKafkaProducer
    http: httpx.AsyncClient


def kafka_producer(settings: Settings) -> AIOKafkaProducer:
    # Tansu (and any broker we might meet) gets plain acks=all; idempotence is done by consumers.
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=2,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


async def keep_session(conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool without asyncpg's reset query (``pg_advisory_unlock_all``, ``CLOSE
    ALL``, ``UNLISTEN *``, ``RESET ALL``): one round trip and one PostgreSQL transaction per release (bench.peak:
    71 transactions per booking before, 39 after). asyncpg still rolls back a transaction left open before this runs.
    Nothing on a pooled connection leaves session state behind: settings are ``SET LOCAL``, advisory locks
    are transaction-scoped, the relay's leadership and the migrator's lock live on connections of their own,
    and the night audit, which takes a session lock on a pooled connection, ends that session if it cannot
    release the lock."""


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings, documents: Sequence[type[Document]] = ()
) -> AsyncIterator[Resources]:
    """Open every pool (and bind the features' beanie ``documents``); on exit close them in reverse order,
    even if opening one failed."""
    async with contextlib.AsyncExitStack() as stack:
        db = await asyncpg.create_pool(
            settings.database_url,
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
            command_timeout=30,
            reset=keep_session,
        )
        stack.push_async_callback(db.close)
        # A bounded pool that WAITS for a free connection (up to redis_pool_timeout_s) instead of failing
        # at once: a burst of requests queues for Redis rather than answering 500.
        redis = Redis.from_pool(BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=settings.redis_pool_max, timeout=settings.redis_pool_timeout_s,
            health_check_interval=10, connection_class=Connection))  # a cancel is never lost (redis_connection.py)
        stack.push_async_callback(redis.aclose)
        mongo: AsyncMongoClient = AsyncMongoClient(settings.mongo_url, serverSelectionTimeoutMS=3000, tz_aware=True)
        stack.push_async_callback(mongo.close)
        if await bind_documents(mongo[settings.mongo_db], documents):
            stack.callback(unbind_documents)
        es = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=10, retry_on_timeout=True)
        stack.push_async_callback(es.close)
        kafka = kafka_producer(settings)
        await kafka.start()
        stack.push_async_callback(kafka.stop)
        http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        stack.push_async_callback(http.aclose)
        log.info("resources_open")
        yield Resources(settings, db, redis, mongo, es, kafka, http)
    log.info("resources_closed")
