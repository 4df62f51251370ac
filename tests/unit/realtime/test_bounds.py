"""The bounds of a /live connection: each is a setting, and breaking one closes or refuses as documented."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.settings import Settings, SettingsError
from realtime.bounds import Bounds, Bucket, Seats
from realtime.channels import CLOSE_SLOW_CONSUMER, update_frame
from realtime.connection import Connection, Subscription
from realtime.store import Entry


def test_every_bound_is_a_setting_and_must_be_positive() -> None:
    bounds = Bounds.of(Settings(live_buffer_bytes=1234, live_max_channels=3))
    assert (bounds.buffer_bytes, bounds.max_channels) == (1234, 3)
    assert set(bounds.table()) >= {"RESORT_LIVE_BUFFER_FRAMES", "RESORT_LIVE_CONNECTIONS_PER_IP"}
    with pytest.raises(SettingsError, match="RESORT_LIVE_FRAMES_PER_S"):
        Settings.from_env({"RESORT_LIVE_FRAMES_PER_S": "0"})


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = Bucket(rate=0.001, burst=3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_seats_are_counted_per_key_and_given_back() -> None:
    seats = Seats(2)
    assert seats.take("a") and seats.take("a") and not seats.take("a") and seats.take("b")
    seats.give_back("a")
    assert seats.take("a") and dict(seats.open) == {"a": 2, "b": 1}


async def _blocked_connection(frames: int, max_bytes: int) -> tuple[Connection, Subscription]:
    """A connection whose socket accepts one frame and then never another (a client that stopped reading)."""
    never = asyncio.get_running_loop().create_future()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            await never

    conn = Connection(send, frames, lambda: None, max_bytes=max_bytes, send_timeout=60)
    sub = Subscription(conn, "booking:b1", "booking", epoch="e", cursor=0, catching_up=False)
    conn.subs[sub.channel] = sub
    return conn, sub


def _entry(seq: int, size: int) -> Entry:
    data = b'{"pad":"' + b"x" * size + b'"}'
    return Entry(seq, data, epoch="e", frame=update_frame("booking:b1", "e", seq, data))


async def test_the_outbound_buffer_is_bounded_by_bytes_as_well_as_frames() -> None:
    conn, sub = await _blocked_connection(frames=100, max_bytes=10_000)
    for seq in range(1, 5):  # 1 in flight, then 3 x ~3 KB queued
        conn.offer(sub, _entry(seq, 3000))
    assert conn.closing is None and len(conn.queue) == 3
    conn.offer(sub, _entry(5, 3000))  # past 10,000 bytes at 4 frames of 100
    assert conn.closing == (CLOSE_SLOW_CONSUMER, "slow_consumer") and conn.queued_bytes == 0
    conn.stop()


async def test_control_frames_share_the_bound() -> None:
    conn, sub = await _blocked_connection(frames=3, max_bytes=1_000_000)
    conn.offer(sub, _entry(1, 10))
    for _ in range(3):
        conn.push('{"type":"pong"}')
    assert conn.closing is None
    conn.push('{"type":"pong"}')  # a client that pings and never reads
    assert conn.closing == (CLOSE_SLOW_CONSUMER, "slow_consumer")
    conn.stop()


async def test_a_catch_up_backlog_past_its_bound_is_dropped_for_a_resync() -> None:
    conn, sub = await _blocked_connection(frames=4, max_bytes=1_000_000)
    sub.catching_up = True
    for seq in range(1, 10):
        conn.offer(sub, _entry(seq, 10))
    assert sub.overflowed and sub.backlog == []
    conn.stop()


async def test_a_write_blocked_past_the_send_timeout_closes_the_socket() -> None:
    conn, sub = await _blocked_connection(frames=8, max_bytes=1_000_000)
    conn.send_timeout = 0.05
    conn.offer(sub, _entry(1, 10))
    async with asyncio.timeout(5):
        while conn.closing is None:
            await asyncio.sleep(0.01)
    assert conn.closing == (CLOSE_SLOW_CONSUMER, "slow_consumer")
    conn.stop()
