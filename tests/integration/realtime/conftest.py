"""Live-update fixtures: the stream store and publisher in the tests' own loop (real Redis, PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from app.outbox import record_event
from app.resources import Resources
from app.settings import Settings
from realtime.channels import meta_key, seen_key, stream_key
from realtime.publisher import TOPICS, Publisher
from realtime.publisher import run as run_publisher
from realtime.store import StreamStore
from sync.relay import OutboxRelay
from tests.support.auth import serve_api, subprocess_environment
from tests.support.groups import REBALANCE_S
from tests.support.wait import until


@pytest.fixture
async def store(sync_resources: Resources, settings: Settings) -> StreamStore:
    return StreamStore(sync_resources.redis, settings.live_stream_maxlen)


@pytest.fixture
async def publisher(sync_resources: Resources, store: StreamStore) -> Publisher:
    return Publisher(sync_resources.db, sync_resources.redis, store)


@pytest.fixture
async def lose_stream(sync_resources: Resources) -> AsyncIterator[object]:
    """``await lose_stream(channel)``: Redis loses this one channel (only this test's keys are deleted)."""

    async def lose(channel: str) -> None:
        await sync_resources.redis.delete(stream_key(channel), meta_key(channel))

    yield lose


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_env(settings: Settings) -> dict[str, str]:
    """The api subprocesses' environment: the test databases, a 1 s auth deadline, small buffers."""
    return {**subprocess_environment(settings), "RESORT_LIVE_AUTH_TIMEOUT_S": "1", "RESORT_LIVE_BUFFER_FRAMES": "8",
            "RESORT_LIVE_STREAM_MAXLEN": "1000", "RESORT_LOG_LEVEL": "WARNING"}


@contextlib.contextmanager
def _api(env: dict[str, str]) -> Iterator[str]:
    """An api process on a free port whose public URL is its own (the Origin its pages send)."""
    port = _free_port()
    with serve_api(env | {"RESORT_PUBLIC_URL": f"http://127.0.0.1:{port}"}, port) as url:
        yield url


@pytest.fixture(scope="session")
def live_api(live_env: dict[str, str], stack: object) -> Iterator[str]:
    """An api process (uvicorn, as in production) serving /live."""
    with _api(live_env) as url:
        yield url


@pytest.fixture(scope="session")
def live_api2(live_env: dict[str, str], stack: object) -> Iterator[str]:
    """A second api process behind the same Redis."""
    with _api(live_env) as url:
        yield url


@pytest.fixture(scope="module")
async def event_flow(sync_resources: Resources) -> AsyncIterator[None]:
    """The outbox relay (for the live topics only) and the ``publisher`` role, running as in production:
    outbox -> Kafka -> publisher -> Redis streams. Per module: nothing of it runs during other tests."""
    stop = asyncio.Event()
    relay = OutboxRelay(sync_resources.settings, sync_resources.db, sync_resources.kafka, topics=list(TOPICS))
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(run_publisher(sync_resources, stop))]
    await _carries_events(sync_resources, relay)
    yield
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)


async def _carries_events(resources: Resources, relay: OutboxRelay) -> None:
    """Until an event written now has come out at the other end: the publisher's group may still be joining
    (on a loaded machine Tansu takes its time), and a test's own wait must not pay for that. If it never
    does, the failure says which stage held it."""
    async with resources.db.acquire() as conn, conn.transaction():
        probe = str(uuid.uuid4())
        event_id = await record_event(conn, topic="holds", aggregate_type="hold", aggregate_id=probe,
                                      event_type="hold.probe", version=1, payload={"property_id": f"probe-{probe}"})
    try:
        await until(lambda: resources.redis.exists(seen_key(str(event_id))), timeout=REBALANCE_S, step=0.1)
    except AssertionError:
        published = await resources.db.fetchval("SELECT published_at FROM outbox WHERE event_id = $1", event_id)
        raise AssertionError(f"the probe event never reached Redis: relay leading {relay.is_leader}, "
                             f"published to Kafka at {published}") from None
