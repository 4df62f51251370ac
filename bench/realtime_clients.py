"""A bench worker: ``python -m bench.realtime_clients URL COUNT CHANNEL UPDATES SLOW_EVERY SLOW_DELAY_S``
opens COUNT sockets (``websockets``, no compression), subscribes each to CHANNEL, prints ``ready``, then
reads until every socket has the last update (or stdin closes) and prints one JSON line: the latency of
every update frame received (ms, event -> client, from the newest ``sent`` among the frame's items, so a
conflated frame counts from the newest change it carries), frames per socket, sockets closed.

Every SLOW_EVERY-th socket is slow: it waits SLOW_DELAY_S after each frame before reading the next (the
server conflates or drops for it); its frames are in the sample like everybody's."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

import msgspec
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake


def raise_fd_limit(wanted: int = 65_536) -> int:
    """At least ``wanted`` open files if this process may raise its hard limit (root), else the hard limit
    (a bench of 20,000 sockets needs more than 20,000 in the server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(wanted, hard), max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _open(url: str, channel: str, attempts: int = 5) -> ClientConnection:
    """Connect and subscribe; a handshake the loaded server dropped is tried again, as a browser would."""
    for attempt in range(attempts):
        try:
            ws = await connect(url, compression=None, open_timeout=120, max_queue=None, ping_interval=None,
                               close_timeout=1)
            break
        except (OSError, EOFError, InvalidHandshake):
            if attempt == attempts - 1:
                raise
            RETRIES[0] += 1
            await asyncio.sleep(0.5 * (attempt + 1))
    await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
    await ws.recv()  # the snapshot
    return ws


RETRIES = [0]


_decode = msgspec.json.decode


async def _read(ws: ClientConnection, last: int, delay: float, latencies: list[float], frames: list[int],
                index: int, counts: dict[str, int]) -> None:
    try:
        while True:
            frame = _decode(await ws.recv())
            if frame.get("type") != "update":
                continue
            items = frame["data"]["items"]
            latencies.append(time.time() * 1000 - max(i["sent"] for i in items))
            frames[index] += 1
            if max(i["n"] for i in items) >= last:
                return
            if delay:
                await asyncio.sleep(delay)
    except Exception:  # noqa: BLE001 - a closed socket is counted, not fatal
        counts["closed"] += 1


async def main(url: str, count: int, channel: str, updates: int, slow_every: int, slow_delay: float) -> None:
    raise_fd_limit()
    sockets: list[ClientConnection] = []
    for start in range(0, count, 100):  # handshakes in batches, as a crowd arriving
        sockets += await asyncio.gather(*(_open(url, channel) for _ in range(min(100, count - start))))
    print("ready", flush=True)
    latencies: list[float] = []
    slow_latencies: list[float] = []
    frames = [0] * len(sockets)
    counts = {"closed": 0}
    slow = [bool(slow_every) and i % slow_every == slow_every - 1 for i in range(len(sockets))]
    readers = asyncio.gather(*(_read(ws, updates - 1, slow_delay if slow[i] else 0,
                                     slow_latencies if slow[i] else latencies, frames, i, counts)
                               for i, ws in enumerate(sockets)))
    stdin_closed = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(None, sys.stdin.read))
    await asyncio.wait({readers, stdin_closed}, return_when=asyncio.FIRST_COMPLETED)
    print(json.dumps({"latencies": [round(x, 2) for x in latencies],
                      "slow_latencies": [round(x, 2) for x in slow_latencies], "frames": sum(frames),
                      "silent": sum(1 for f in frames if f == 0), "slow": sum(slow), "retries": RETRIES[0], **counts}),
          flush=True)
    for ws in sockets:
        ws.transport.abort()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                    float(sys.argv[6])))
