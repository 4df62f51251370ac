"""Saga roles for the consumer-group test: their own topics of 4 partitions, two instances of the
orchestrator and of the participants, and step deadlines longer than a group's rebalance (a killed member
is noticed after its session timeout), so a handover delays bookings without failing them."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from tests.integration.bookings.conftest import ROLES, Roles, create_topics, topics_exist
from tests.support.auth import subprocess_environment

PATIENT = {"RESORT_LOG_LEVEL": "INFO", "RESORT_SAGA_STEP_TIMEOUT_S": "30", "RESORT_SWEEPER_INTERVAL_S": "0.2"}


@pytest.fixture(scope="module")
def group_roles(settings: Any, stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, **subprocess_environment(settings), **PATIENT, "RESORT_SAGA_GROUP": f"test-group-{run}",
           "RESORT_SERVICES_GROUP": f"test-group-services-{run}", "RESORT_LOG_JSON": "true",
           "RESORT_KAFKA_TOPIC_PREFIX": f"g{run}."}
    mine = msgspec.structs.replace(settings, kafka_topic_prefix=f"g{run}.")
    asyncio.run(create_topics(mine, ("saga.commands", "saga.replies", "bookings"), partitions=4))
    roles = Roles(env, tmp_path_factory.mktemp("group-roles"))
    for role in ROLES:
        roles.start(role)
    roles.start("saga", "saga-2")
    roles.start("services", "services-2")
    try:
        asyncio.run(topics_exist(mine))
        for name in ("saga", "services", "saga-2", "services-2"):
            roles.wait_ready(name)
        yield roles
    finally:
        roles.stop()
