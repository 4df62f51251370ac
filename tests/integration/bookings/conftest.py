"""The saga's processes for booking tests: relay, orchestrator, participants and sweeper as real
``resort run <role>`` subprocesses on the test databases, with short deadlines."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest

from app.payments.stripe_provider import StripeProvider
from tests.support.auth import subprocess_environment

ROLES = ("relay", "saga", "services", "sweeper", "booking-views")
FAST = {"RESORT_LOG_LEVEL": "INFO", "RESORT_SAGA_STEP_TIMEOUT_S": "1.5", "RESORT_SAGA_MAX_RESENDS": "1", "RESORT_PAYMENT_TIMEOUT_S": "0.5",
        "RESORT_SWEEPER_INTERVAL_S": "0.2", "RESORT_PAYMENT_OWED_RETRY_INTERVAL_S": "0.5"}


@dataclass
class Roles:
    """Running role processes; ``kill`` and ``start`` them to test crashes."""

    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)

    def start(self, role: str, name: str | None = None) -> None:
        name = name or role
        path = self.log_dir / f"{name}.log"
        self.offsets[name] = path.stat().st_size if path.exists() else 0
        log = open(path, "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "run", role], env=self.env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, role: str, timeout: float = 60) -> None:
        """Until the role's consumer has its partitions (a first group join takes seconds on Tansu)."""
        deadline = time.monotonic() + timeout
        log = self.log_dir / f"{role}.log"
        while b"saga_consumer_ready" not in log.read_bytes()[self.offsets.get(role, 0):]:
            if self.processes[role].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{role} not ready; see {log}")
            time.sleep(0.1)

    def kill(self, role: str) -> None:
        process = self.processes.pop(role)
        process.kill()
        process.wait(10)

    def stop(self) -> None:
        """SIGTERM to every role at once (each takes seconds to leave its consumer group), then wait."""
        for process in self.processes.values():
            process.terminate()
        for role in list(self.processes):
            process = self.processes.pop(role)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture(scope="package")
def saga_roles(settings: Any, stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    run = uuid.uuid4().hex[:8]
    # Topics of their own: a new consumer group starts at the beginning of its topics, and chewing through
    # every earlier test's commands would push this run's steps past their short deadlines.
    env = {**os.environ, **subprocess_environment(settings), **FAST, "RESORT_SAGA_GROUP": f"test-saga-{run}",
           "RESORT_SERVICES_GROUP": f"test-services-{run}", "RESORT_LOG_JSON": "true",
           "RESORT_KAFKA_TOPIC_PREFIX": f"t{run}."}
    roles = Roles(env, tmp_path_factory.mktemp("roles"))
    mine = msgspec.structs.replace(settings, kafka_topic_prefix=f"t{run}.")
    asyncio.run(create_topics(mine, ("saga.commands", "saga.replies", "bookings"), partitions=4))
    for role in ROLES:
        roles.start(role)
    try:
        asyncio.run(topics_exist(mine))
        for role in ("saga", "services"):
            roles.wait_ready(role)
        yield roles
    finally:
        roles.stop()


async def topics_exist(settings: Any, topics: tuple[str, ...] = ("saga.commands", "saga.replies")) -> None:
    """Create the saga's topics before its consumers join (auto-creation on first produce races them)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for topic in topics:
            for _ in range(50):
                try:
                    await producer.partitions_for(settings.topic(topic))
                    break
                except Exception:  # noqa: BLE001 - the broker is creating it
                    await asyncio.sleep(0.1)
    finally:
        await producer.stop()


async def create_topics(settings: Any, topics: tuple[str, ...], partitions: int) -> None:
    """Topics of several partitions, as production has them: several consumers of one group share them."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(settings.topic(t), num_partitions=partitions, replication_factor=1)
                                   for t in topics])
    finally:
        await admin.close()


BookFn = Callable[..., Awaitable[Any]]


def booking_body(hold_ids: list[str], token: str = "tok_approve") -> dict[str, Any]:
    return {"hold_ids": hold_ids, "guest": {"name": "Hong Gil-dong", "email": "gildong@example.com"},
            "payment": {"card_token": token}}


@pytest.fixture
async def provider(settings: Any) -> AsyncIterator[StripeProvider]:
    """The Stripe adapter on the sandbox provider, as production reads it."""
    adapter = StripeProvider(settings)
    try:
        yield adapter
    finally:
        await adapter.close()
