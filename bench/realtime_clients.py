"""A bench worker: ``python -m bench.realtime_clients URL COUNT CHANNEL UPDATES SLOW_EVERY SLOW_DELAY_S
[PER_ADDRESS FIRST_SEAT]`` opens COUNT sockets, subscribes each to CHANNEL, prints ``ready``, then reads until
every socket has the last update (the update whose item ``n`` is UPDATES - 1), or stdin closes, and prints one
JSON line: the latency of every update frame received (ms, event -> client, from the newest ``sent`` among the
frame's items, so a conflated frame counts from the newest change it carries), frames per socket, sockets
closed, and sequence gaps (an update whose ``seq`` is not the last one + 1 and that is not marked conflated).

With PER_ADDRESS, sockets come from many loopback addresses, PER_ADDRESS per address (``127.1.x.y``, seats
from FIRST_SEAT on), for a server whose connections per address are bounded (the hostile-client suite).

Every SLOW_EVERY-th socket is slow: after each update frame it stops reading its socket for SLOW_DELAY_S
(``pause_reading``: what it has not read stays in the kernel's buffers, so the server can see it lag and
conflate); its frames are in the sample like everybody's, each timed when the client takes it.

The client is a bare asyncio protocol speaking RFC 6455 (handshake, masked client frames, unmasked server
frames, pong to pings) and decoding only an update's ``sent`` and ``n``: ~20 µs of CPU per frame, most of it
the kernel's receive, where the ``websockets`` client spent ~40 µs, more than the server it measured (on 2
cores shared by server and clients, the clients' CPU was a good part of the latency). Both servers are read
by the same clients.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import sys
import time
from urllib.parse import urlsplit

import msgspec
import uvloop

_UPDATE = b'{"type":"update"'
_SNAPSHOT = b'{"type":"snapshot"'
_OP_TEXT, _OP_CLOSE, _OP_PING = 0x1, 0x8, 0x9


class _Item(msgspec.Struct):
    sent: float = 0.0
    n: int = -1


class _Data(msgspec.Struct):
    items: list[_Item] = []
    conflated: bool = False


class _Update(msgspec.Struct):
    data: _Data
    seq: int = 0


_decode = msgspec.json.Decoder(_Update).decode


class _Snapshot(msgspec.Struct):
    seq: int = 0


_decode_snapshot = msgspec.json.Decoder(_Snapshot).decode


def _snapshot_seq(payload: bytes) -> int:
    return _decode_snapshot(payload).seq


def raise_fd_limit(wanted: int = 65_536) -> int:
    """At least ``wanted`` open files if this process may raise its hard limit (root), else the hard limit
    (a bench of 20,000 sockets needs more than 20,000 in the server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(wanted, hard), max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455 5.3), FIN set."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (size // 4 + 1))[:size], "big"))
    return head + mask + masked.to_bytes(size, "big")


class Subscriber(asyncio.Protocol):
    """One socket: the handshake, the snapshot, then every update frame timed and counted."""

    def __init__(self, tally: Tally, slow_delay: float) -> None:
        self.tally = tally
        self.slow_delay = slow_delay
        self.latencies = tally.slow_latencies if slow_delay else tally.latencies
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.upgraded = asyncio.get_running_loop().create_future()
        self.snapshot = asyncio.get_running_loop().create_future()
        self.frames = 0
        self.seq: int | None = None  # the last sequence number seen (the snapshot's, then each update's)
        self.paused = False
        self.subscribed = False
        self.done = False  # got the last update, or closed (only a subscribed socket is counted)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[:end + 4]
            if b" 101 " not in status + b" ":
                self.upgraded.set_exception(ConnectionError(status.decode("latin-1")))
                return
            self.upgraded.set_result(None)
        if not self.paused:
            self._drain()

    def _drain(self) -> None:
        """Take the complete frames in the buffer (a slow socket stops after each update)."""
        buffer, now = self.buffer, time.time() * 1000
        while len(buffer) >= 2:
            size, start = buffer[1] & 0x7F, 2
            if size == 126:
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + size:
                return
            opcode, payload = buffer[0] & 0x0F, bytes(buffer[start:start + size])
            del buffer[:start + size]
            if self._frame(opcode, payload, now) and self.slow_delay and not self.done:
                self.paused = True
                self.transport.pause_reading()  # type: ignore[union-attr]
                asyncio.get_running_loop().call_later(self.slow_delay, self._resume)
                return

    def _resume(self) -> None:
        self.paused = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()
        self._drain()

    def _frame(self, opcode: int, payload: bytes, now: float) -> bool:
        """Handle one frame; True if it was an update."""
        if opcode == _OP_TEXT and payload.startswith(_UPDATE):
            update = _decode(payload)
            items = update.data.items
            if self.seq is not None and update.seq != self.seq + 1 and not update.data.conflated:
                self.tally.gaps += 1
            self.seq = update.seq
            self.latencies.append(now - max(i.sent for i in items))
            self.frames += 1
            if not self.done and max(i.n for i in items) >= self.tally.last:
                self.done = True
                self.tally.finished(self)
            return True
        if opcode == _OP_TEXT and not self.snapshot.done():
            if payload.startswith(_SNAPSHOT):
                self.subscribed = True
                self.seq = _snapshot_seq(payload)
                self.snapshot.set_result(None)
            else:
                self.snapshot.set_exception(ConnectionError(payload.decode(errors="replace")))
        elif opcode == _OP_PING and self.transport is not None:
            self.transport.write(client_frame(0xA, payload))
        elif opcode == _OP_CLOSE:
            self._closed()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed before the handshake"))
        if not self.snapshot.done():
            self.snapshot.set_exception(ConnectionError("closed before the snapshot"))
        self._closed()

    def _closed(self) -> None:
        if self.subscribed and not self.done:
            self.done = True
            self.tally.closed += 1
            self.tally.finished(self)


class Tally:
    """What the worker's sockets received."""

    def __init__(self, count: int, last: int) -> None:
        self.last = last
        self.left = count
        self.latencies: list[float] = []
        self.slow_latencies: list[float] = []
        self.closed = 0
        self.gaps = 0
        self.retries = 0
        self.all_done = asyncio.get_running_loop().create_future()

    def finished(self, _: Subscriber) -> None:
        self.left -= 1
        if self.left <= 0 and not self.all_done.done():
            self.all_done.set_result(None)


def seat_address(seat: int) -> str:
    """The loopback address of one seat (a group of sockets sharing an address): ``127.1.x.y``."""
    return f"127.1.{seat // 200}.{10 + seat % 200}"


async def _open(url: str, channel: str, tally: Tally, slow_delay: float, attempts: int = 5,
                address: str | None = None) -> Subscriber:
    """Connect, upgrade and subscribe; a handshake the loaded server dropped is tried again, as a browser
    would."""
    parts = urlsplit(url)
    request = (f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    for attempt in range(attempts):
        try:
            _, sub = await loop.create_connection(lambda: Subscriber(tally, slow_delay), parts.hostname, parts.port,
                                                  local_addr=(address, 0) if address else None)
            sub.transport.write(request)  # type: ignore[union-attr]
            await asyncio.wait_for(sub.upgraded, 120)
            break
        except (OSError, ConnectionError, TimeoutError):
            if attempt == attempts - 1:
                raise
            tally.retries += 1
            await asyncio.sleep(0.5 * (attempt + 1))
    subscribe = json.dumps({"op": "subscribe", "channel": channel}).encode()
    sub.transport.write(client_frame(_OP_TEXT, subscribe))  # type: ignore[union-attr]
    await asyncio.wait_for(sub.snapshot, 120)
    return sub


async def main(url: str, count: int, channel: str, updates: int, slow_every: int, slow_delay: float,
               per_address: int = 0, first_seat: int = 0) -> None:
    raise_fd_limit()
    tally = Tally(count, updates - 1)
    slow = [bool(slow_every) and i % slow_every == slow_every - 1 for i in range(count)]
    sockets: list[Subscriber] = []
    for start in range(0, count, 100):  # handshakes in batches, as a crowd arriving
        sockets += await asyncio.gather(*(_open(url, channel, tally, slow_delay if slow[i] else 0, address=(
            seat_address(first_seat + i // per_address) if per_address else None))
            for i in range(start, min(start + 100, count))))
    print("ready", flush=True)
    stdin_closed = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(None, sys.stdin.read))
    await asyncio.wait({tally.all_done, stdin_closed}, return_when=asyncio.FIRST_COMPLETED)
    frames = [s.frames for s in sockets]
    print(json.dumps({"latencies": [round(x, 2) for x in tally.latencies],
                      "slow_latencies": [round(x, 2) for x in tally.slow_latencies], "frames": sum(frames),
                      "silent": sum(1 for f in frames if f == 0), "slow": sum(slow), "retries": tally.retries,
                      "closed": tally.closed, "gaps": tally.gaps,
                      "last_seqs": sorted({s.seq for s in sockets if s.seq is not None})}), flush=True)
    for sub in sockets:
        if sub.transport is not None:
            sub.transport.abort()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                    float(sys.argv[6]), *(int(x) for x in sys.argv[7:9])))
