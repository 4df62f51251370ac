"""How long the broker may hold a consumer's fetch, paced by the traffic the consumer sees.

A fetch asks the broker for new messages and lets it hold the request up to ``fetch_max_wait_ms`` while
there are none. A real Kafka broker answers a held fetch the moment a message arrives, so a long hold
costs nothing. The local stand-in (Tansu) answers a held fetch only when the hold ends, so the consumers
keep the hold short (``kafka_fetch_wait_ms``, 20 ms) to keep each saga hop fast. That made every idle
consumer ask 50 times a second: about a third of this machine's two cores, with nothing to do.

So the hold follows the traffic: while messages come, it is ``busy_ms``; each poll that brought nothing
doubles it, up to ``idle_ms`` (``kafka_idle_fetch_wait_ms``). The first message after a quiet spell waits
at most one idle hold; the next poll is fast again. Background work is then proportional to change.

aiokafka reads the hold from its fetcher for every fetch request it builds; it has no public setter, so
:class:`FetchPace` writes the fetcher's attribute. ``tests/integration/test_fetch_pace.py`` runs against
the real broker and fails if an aiokafka upgrade moves it.
"""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger("app.fetch_pace")


def next_wait(current_ms: int, got_messages: bool, busy_ms: int, idle_ms: int) -> int:
    """The hold after a poll: ``busy_ms`` when it brought messages, else twice the current, at most ``idle_ms``."""
    if got_messages or idle_ms <= busy_ms:
        return busy_ms
    return min(idle_ms, max(current_ms, 1) * 2)


class FetchPace:
    """Paces one started ``AIOKafkaConsumer``: call :meth:`after` with what each ``getmany`` returned."""

    def __init__(self, consumer: Any, busy_ms: int, idle_ms: int) -> None:
        self.busy_ms, self.idle_ms = busy_ms, idle_ms
        self.fetcher = getattr(consumer, "_fetcher", None)
        if self.fetcher is None or not hasattr(self.fetcher, "_fetch_max_wait_ms"):
            log.warning("fetch_pace_unavailable", reason="aiokafka's fetcher has no _fetch_max_wait_ms")
            self.fetcher = None
        self._set(busy_ms)

    def after(self, batches: dict[Any, list[Any]]) -> int:
        """Set the next fetches' hold from whether this poll brought messages; returns it."""
        wait = next_wait(self.wait_ms, any(batches.values()), self.busy_ms, self.idle_ms)
        if wait != self.wait_ms:
            self._set(wait)
        return wait

    def _set(self, wait_ms: int) -> None:
        self.wait_ms = wait_ms
        if self.fetcher is not None:
            self.fetcher._fetch_max_wait_ms = wait_ms


def pace_of(consumer: Any, settings: Any) -> FetchPace:
    """The pace of a started consumer: the hold it was built with (``fetch_max_wait_ms``) while messages
    flow, up to ``kafka_idle_fetch_wait_ms`` (never below that hold) when none do."""
    busy = getattr(getattr(consumer, "_fetcher", None), "_fetch_max_wait_ms", settings.kafka_fetch_wait_ms)
    return FetchPace(consumer, busy, max(busy, settings.kafka_idle_fetch_wait_ms))
