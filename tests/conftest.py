"""Session fixtures: the local stack (started, or reused when running), migrations, the app and a client.

Tests get their own PostgreSQL database, MongoDB database, Redis db, Kafka topic prefix and search index,
so they never touch the data of a ``resort up`` running beside them. Integration tests create entities
with unique ids (see ``unique``) instead of truncating, so they stay independent of each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.settings import Settings

TEST_ENV = {
    "RESORT_DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/resort_test",
    "RESORT_REDIS_URL": "redis://127.0.0.1:56379/1",
    "RESORT_MONGO_DB": "resort_test",
    "RESORT_KAFKA_TOPIC_PREFIX": "test.",
    "RESORT_SEARCH_INDEX": "test_products",
    "RESORT_LOG_JSON": "false",
    "RESORT_LOG_LEVEL": "WARNING",
    "RESORT_COOKIE_SECURE": "false",
    # The scheduled night audit would close yesterday for every test's property: tests run it themselves.
    "RESORT_NIGHT_AUDIT_HOUR": "-1",
    # Every test request comes from one address ("testclient"); the flood tests set their own small budget.
    "RESORT_RATE_LIMIT_BAD_TOKENS_PER_MINUTE": "1000000",
    "RESORT_HEALTH_RATE_LIMIT_PER_MINUTE": "1000000",
}

pytest_plugins = [
    p for p in ("tests.support.auth", "tests.support.catalog", "tests.support.browser")
    if (Path(__file__).parent / "support" / (p.rsplit(".", 1)[1] + ".py")).exists()
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def settings() -> Settings:
    env = {**os.environ, **{k: v for k, v in TEST_ENV.items() if k not in os.environ or k == "RESORT_LOG_JSON"}}
    # the payment sandbox's account of these databases alone (its books are per secret key, as Stripe's are)
    env.setdefault("RESORT_PAYMENT_API_KEY",
                   "sk_test_" + hashlib.sha256(env["RESORT_DATABASE_URL"].encode()).hexdigest()[:16])
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[object]:
    """Bring the servers up (or reuse the running ones), migrate the test database; stop what we started."""
    from app.db.migrate import migrate
    from app.stack import LocalStack, local_servers

    local = LocalStack(local_servers(settings))
    try:
        local.start_servers()
        asyncio.run(migrate(settings.database_url))
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
async def app(settings: Settings, stack: object) -> Litestar:
    from app.main import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture(scope="session")
def resources(app: Litestar, client: AsyncTestClient[Litestar]) -> object:
    """The app's own pools (open while ``client`` is)."""
    return app.state.resources


@pytest.fixture
def unique() -> str:
    """A short unique suffix for the names and ids a test creates."""
    return uuid.uuid4().hex[:10]
