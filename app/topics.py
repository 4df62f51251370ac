"""Every Kafka topic of the app (without ``RESORT_KAFKA_TOPIC_PREFIX``) with the partitions it is created
with, and which worker role consumes which topics in which consumer group.

The partition count bounds a consumer group's useful instances: a group never has more active members
than its topic has partitions, so the Kubernetes autoscaler of each consumer role (a KEDA ScaledObject in
``deploy/kubernetes``) stops there. ``tests/unit/test_kubernetes.py`` checks the manifests against this
table (every ``KafkaTopic``, every KEDA trigger's topic and group, every maximum), and that the modules
that consume really read these topics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.settings import Settings

# Booking-path topics get more partitions: they carry 1,000 bookings/s at peak (README, capacity model).
TOPICS: dict[str, int] = {
    "catalog": 6,
    "inventory": 12,
    "holds": 12,
    "bookings": 12,
    "saga.commands": 12,
    "saga.replies": 12,
    "frontdesk": 6,
    "health": 1,
    "activity": 12,
}


@dataclass(frozen=True)
class Consumer:
    """A worker role's Kafka consumption: the topics it reads in one consumer group."""

    topics: tuple[str, ...]
    group: Callable[[Settings], str]

    def max_instances(self) -> int:
        """More instances than the largest topic's partitions would sit idle."""
        return max(TOPICS[topic] for topic in self.topics)


CONSUMERS: dict[str, Consumer] = {
    "projector": Consumer(("catalog",), lambda s: s.projector_group),
    "saga": Consumer(("saga.replies",), lambda s: s.saga_group),
    "services": Consumer(("saga.commands",), lambda s: s.services_group),
    "booking-views": Consumer(("bookings",), lambda s: f"{s.saga_group}-views"),
    "publisher": Consumer(("inventory", "holds", "bookings", "frontdesk"), lambda s: s.live_publisher_group),
    "activity": Consumer(("activity", "holds", "bookings"), lambda s: s.activity_group),
    "recommend-cache": Consumer(("inventory",), lambda s: f"{s.activity_group}-recommend-cache"),
    # its frontdesk-topic group is this one + "-desk" (app/frontdesk/views.py)
    "frontdesk-views": Consumer(("bookings", "frontdesk"), lambda s: s.frontdesk_views_group),
}

# Roles that are not Kafka consumers, and how their instances share the work.
SINGLE_LEADER: dict[str, str] = {
    "relay": "one leader per set of topics by a PostgreSQL advisory lock held on its own connection "
             "(sync/relay.py); the other instances stand by and take over when the leader's session ends",
}
SHARED_BY_LOCKS: dict[str, str] = {
    "sweeper": "every instance sweeps due holds and saga deadlines in FOR UPDATE SKIP LOCKED batches",
}
