"""Simulated partners (the IdP's demo clients) and their reading of ``GET /partner/events``.

A partner books through the same API as a guest, with a client-credentials token. Its feed reader
follows the feed from the cursor where this run began, passing the last ``next`` as ``after`` (the
contract), and records every event; the checker then holds the feed to its promise: in order, no event
twice, none skipped behind the cursor, and every acknowledged booking told with its final status.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bench.faults.workload import Guest, History

PARTNERS = ("partner-acme", "partner-globe")
FINAL = {"confirmed": "booking.confirmed", "failed": "booking.failed", "cancelled": "booking.cancelled"}


def partner(n: int, client_id: str, issuer: str) -> Guest:
    async def renew() -> str:
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(50):
                try:
                    meta = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
                    answer = await http.post(meta["token_endpoint"], auth=(client_id, f"{client_id}-secret"), data={
                        "grant_type": "client_credentials", "scope": "bookings:read bookings:write"})
                    return answer.json()["access_token"]
                except (httpx.HTTPError, KeyError, ValueError):
                    await asyncio.sleep(0.2)
        raise RuntimeError(f"no token for {client_id}")

    return Guest(n, actor=client_id, renew=renew)


@dataclass
class FeedReader:
    guest: Guest
    apis: list[str]
    start: int  # the feed's last cursor before the run
    cursor: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # violations seen while reading

    async def run(self, stop: asyncio.Event, every: float = 0.5) -> None:
        """Follow the feed until ``stop``, then once more to its end."""
        self.cursor = self.start
        clients = [httpx.AsyncClient(base_url=url, timeout=10) for url in self.apis]
        try:
            n = 0
            while not stop.is_set():
                await self.read(clients[n % len(clients)])
                n += 1
                await asyncio.sleep(every)
        finally:
            for client in clients:
                await client.aclose()

    async def read(self, client: httpx.AsyncClient) -> bool:
        """Read pages until the feed has no more; False when a call failed (tried again later)."""
        while True:
            try:
                response = await client.get("/partner/events", params={"after": str(self.cursor), "limit": 100},
                                            headers={"Authorization": f"Bearer {self.guest.token}"})
            except httpx.HTTPError:
                return False
            if response.status_code == 401:
                self.guest.token = await self.guest.renew()
                continue
            if response.status_code != 200:
                return False
            page = response.json()
            for event in page["events"]:
                if int(event["cursor"]) <= self.cursor:
                    self.order.append(f"{self.guest.actor} feed: cursor {event['cursor']} after {self.cursor}")
                self.cursor = max(self.cursor, int(event["cursor"]))
                self.events.append(event)
            if int(page["next"]) != self.cursor:
                self.order.append(f"{self.guest.actor} feed: next {page['next']} is not the last cursor {self.cursor}")
            if not page["has_more"]:
                return True

    async def finish(self, apis: list[str], timeout: float = 30) -> None:
        """Read to the end once everything has settled (a feed that cannot be read is a violation)."""
        async with httpx.AsyncClient(base_url=apis[0], timeout=10) as client:
            try:
                async with asyncio.timeout(timeout):
                    while not await self.read(client):
                        await asyncio.sleep(0.5)
            except TimeoutError:
                self.order.append(f"{self.guest.actor} feed: not readable to its end within {timeout} s")


async def feed_start(database_url: str, client_id: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM partner_events WHERE client_id = $1",
                                       client_id))
    finally:
        await conn.close()


async def feed_violations(database_url: str, readers: list[FeedReader], history: History) -> tuple[list[str], int]:
    """The feed against PostgreSQL and the history: (violations, events read)."""
    found: list[str] = []
    conn = await asyncpg.connect(database_url)
    try:
        for reader in readers:
            actor = reader.guest.actor
            found += reader.order
            read = [int(e["cursor"]) for e in reader.events]
            if len(read) != len(set(read)):
                found.append(f"{actor} feed: {len(read) - len(set(read))} events read twice")
            rows = await conn.fetch("SELECT id FROM partner_events WHERE client_id = $1 AND id > $2 AND id <= $3",
                                    actor, reader.start, reader.cursor)
            skipped = sorted({r["id"] for r in rows} - set(read))
            if skipped:
                found.append(f"{actor} feed: events behind the cursor never read: {skipped[:10]}")
            last = {e["booking_id"]: e["type"] for e in reader.events}
            created = {e["booking_id"] for e in reader.events if e["type"] == "booking.created"}
            acknowledged = {op.ref for op in history.ops if op.actor == actor and op.kind == "book" and op.outcome == "ok"}
            status = {str(r["id"]): r["status"] for r in await conn.fetch(
                "SELECT id, status FROM bookings WHERE id = ANY($1::uuid[])", list(acknowledged))}
            for booking in sorted(acknowledged):
                if booking not in created or last.get(booking) != FINAL.get(status.get(booking, ""), "?"):
                    found.append(f"{actor} feed: booking {booking} is {status.get(booking)} in PostgreSQL, the feed"
                                 f" told {last.get(booking)} (created told: {booking in created})")
        return found, sum(len(r.events) for r in readers)
    finally:
        await conn.close()
