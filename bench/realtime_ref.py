"""The reference: ``python -m bench.realtime_ref PORT REDIS_URL CHANNEL``, a bare ``websockets`` server
that reads the same Redis stream and sends each entry to every socket with ``websockets.broadcast()``
(the same frame text as /live: one encoding, no per-socket work beyond the write). It pings every socket every
20 s, as uvicorn does for the api's sockets (its ``ws_ping_interval`` default): both servers keep their idle
sockets alive the same way, which for 5,000 sockets is 250 pings and pongs a second."""

from __future__ import annotations

import sys

import uvloop
import websockets
from redis.asyncio import Redis
from websockets.asyncio.server import ServerConnection, serve

from realtime.channels import snapshot_frame, stream_key, update_frame

clients: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    await ws.recv()  # the subscribe op
    await ws.send(snapshot_frame(CHANNEL, "ref", 0, {}))
    clients.add(ws)
    try:
        await ws.wait_closed()
    finally:
        clients.discard(ws)


async def relay(redis: Redis) -> None:
    last = "$"
    while True:
        for _, entries in await redis.xread({stream_key(CHANNEL): last}, block=1000, count=1000) or []:
            for entry_id, values in entries:
                last = entry_id.decode()
                seq = int(last.split("-", 1)[0])
                websockets.broadcast(clients, update_frame(CHANNEL, "ref", seq, values[b"d"]))


async def main(port: int, redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=20, ping_timeout=20, max_queue=None):
        print("ready", flush=True)
        await relay(redis)


if __name__ == "__main__":
    CHANNEL = sys.argv[3]
    uvloop.run(main(int(sys.argv[1]), sys.argv[2]))
