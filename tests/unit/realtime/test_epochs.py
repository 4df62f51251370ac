"""A subscription never receives an entry of another epoch than its snapshot's: the reader met a new
epoch (Redis lost the stream) while the subscriber's resync was still on its way; an entry whose seq
happened to follow the old cursor was delivered framed with the new epoch and no snapshot (the fault
run's gap checker caught it). It now waits for its fresh snapshot."""

from __future__ import annotations

import asyncio
from typing import Any

from realtime.channels import update_frame
from realtime.connection import Connection, Subscription
from realtime.store import Entry


async def test_an_entry_of_a_new_epoch_resyncs_instead_of_being_delivered() -> None:
    sent: list[str] = []
    resynced: list[Subscription] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["text"])

    async def on_resync(sub: Subscription) -> None:
        resynced.append(sub)

    conn = Connection(send, 8, lambda: None)
    conn.on_resync = on_resync
    sub = Subscription(conn, "booking:b1", "booking", epoch="old", cursor=0, catching_up=False)
    conn.subs[sub.channel] = sub
    new = Entry(1, b'{"status":"confirmed"}', epoch="new", frame=update_frame("booking:b1", "new", 1, b"{}"))
    assert conn.offer(sub, new) is False and sent == []
    await asyncio.sleep(0)
    assert resynced == [sub] and sub.cursor == 0
    same = Entry(1, b'{"status":"confirmed"}', epoch="old", frame=update_frame("booking:b1", "old", 1, b"{}"))
    assert conn.offer(sub, same) is True and len(sent) == 1 and sub.cursor == 1
