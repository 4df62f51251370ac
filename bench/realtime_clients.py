"""A bench worker: ``python -m bench.realtime_clients URL COUNT CHANNEL UPDATES`` opens COUNT sockets
(``websockets``, no compression), subscribes each to CHANNEL, prints ``ready``, then reads until every
socket got UPDATES updates (or stdin closes) and prints one JSON line: latencies (ms, event -> client,
from the ``sent`` time the driver puts in each update) and counts."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import uvloop
from websockets.asyncio.client import ClientConnection, connect


async def _open(url: str, channel: str) -> ClientConnection:
    ws = await connect(url, compression=None, open_timeout=60, max_queue=None, ping_interval=None)
    await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
    await ws.recv()  # the snapshot
    return ws


async def _read(ws: ClientConnection, updates: int, latencies: list[float], counts: dict[str, int]) -> None:
    try:
        for _ in range(updates):
            frame = json.loads(await ws.recv())
            latencies.append(time.time() * 1000 - frame["data"]["sent"])
            counts["frames"] += 1
    except Exception:  # noqa: BLE001 - a closed socket is counted, not fatal
        counts["closed"] += 1


async def main(url: str, count: int, channel: str, updates: int) -> None:
    sockets: list[ClientConnection] = []
    for start in range(0, count, 100):  # handshakes in batches, as a crowd arriving
        sockets += await asyncio.gather(*(_open(url, channel) for _ in range(min(100, count - start))))
    print("ready", flush=True)
    latencies: list[float] = []
    counts = {"frames": 0, "closed": 0}
    readers = asyncio.gather(*(_read(ws, updates, latencies, counts) for ws in sockets))
    stdin_closed = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(None, sys.stdin.read))
    await asyncio.wait({readers, stdin_closed}, return_when=asyncio.FIRST_COMPLETED)
    print(json.dumps({"latencies": [round(x, 2) for x in latencies], **counts}), flush=True)
    for ws in sockets:
        ws.transport.abort()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
