"""Sequenced per-channel entries in Redis Streams, with an epoch that changes when a stream is lost.

Invariant: a channel's meta hash exists if and only if its stream does (created together, the stream
empty via ``XGROUP CREATE ... MKSTREAM``). If either is missing (flush, eviction, deletion), the next
read or write starts a new epoch at seq 0, so a client holding the old epoch gets a fresh snapshot.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from realtime.channels import meta_key, seen_key, stream_key, versions_key

_ENSURE = """
local function ensure(stream, meta, candidate)
  local epoch = redis.call('HGET', meta, 'epoch')
  if epoch and redis.call('EXISTS', stream) == 1 then return epoch end
  redis.call('DEL', stream, meta)
  redis.call('XGROUP', 'CREATE', stream, 'rt', '$', 'MKSTREAM')
  redis.call('HSET', meta, 'epoch', candidate, 'seq', 0)
  return candidate
end
"""

# KEYS: seen, then (stream, meta) per channel, then hashes to set. ARGV: seen ttl, maxlen, epoch candidate,
# time ms, number of channels n, traceparent ('' without tracing), the guard (hash index, 0 without one;
# field; version), n data, n versions-hash indexes (0: the entry carries no versioned items), then triplets
# (hash index, field, value) for the extra hashes.
# The guard orders a whole event by its aggregate's version (a booking's): an event whose version is not above
# the one recorded in the guard's field writes nothing and answers 2, stale; a newer one records its version.
# Per-key ordering: an availability entry's items not above their (product, night)'s published version are
# dropped here, atomically with the write (an event all of whose items are older writes nothing and answers
# 2, stale); a field of a versions hash only ever grows. Two publishers racing cannot publish or record an
# older value after a newer one.
_APPEND = _ENSURE + """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
local n = tonumber(ARGV[5])
local g = tonumber(ARGV[7])
if g > 0 then
  local seen = redis.call('HGET', KEYS[2 * n + 1 + g], ARGV[8])
  if seen and tonumber(seen) >= tonumber(ARGV[9]) then return 2 end
end
local data = {}
for i = 1, n do
  data[i] = ARGV[9 + i]
  local v = tonumber(ARGV[9 + n + i])
  if v > 0 then
    local vkey = KEYS[2 * n + 1 + v]
    local body = cjson.decode(data[i])
    local items = body['items']
    if type(items) == 'table' and #items > 0 then
      local kept = {}
      for _, item in ipairs(items) do
        local old = redis.call('HGET', vkey, item['product_id'] .. ':' .. item['night'])
        if (not old) or tonumber(item['version']) > tonumber(old) then kept[#kept + 1] = item end
      end
      if #kept == 0 then return 2 end
      if #kept < #items then
        body['items'] = kept
        data[i] = cjson.encode(body)
      end
    end
  end
end
for i = 1, n do
  local stream, meta = KEYS[2 * i], KEYS[2 * i + 1]
  ensure(stream, meta, ARGV[3] .. '.' .. i)
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  if ARGV[6] == '' then
    redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], seq .. '-0', 'd', data[i], 't', ARGV[4])
  else
    redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], seq .. '-0', 'd', data[i], 't', ARGV[4], 'p', ARGV[6])
  end
end
if g > 0 then redis.call('HSET', KEYS[2 * n + 1 + g], ARGV[8], ARGV[9]) end
for j = 10 + 2 * n, #ARGV, 3 do
  local key = KEYS[2 * n + 1 + tonumber(ARGV[j])]
  if string.sub(key, 1, 12) == 'rt:versions:' then
    local old = redis.call('HGET', key, ARGV[j + 1])
    if (not old) or tonumber(ARGV[j + 2]) > tonumber(old) then redis.call('HSET', key, ARGV[j + 1], ARGV[j + 2]) end
  else
    redis.call('HSET', key, ARGV[j + 1], ARGV[j + 2])
  end
end
return 1
"""

_POSITION = _ENSURE + """
local epoch = ensure(KEYS[1], KEYS[2], ARGV[1])
return {epoch, redis.call('HGET', KEYS[2], 'seq')}
"""


@dataclass(slots=True)
class Entry:
    """One stream entry, its frame built once per process (lazily) and shared by every subscriber."""

    seq: int
    data: bytes
    t: int = 0
    frame: str = ""
    wire: bytes = b""  # the frame's WebSocket bytes (realtime.wire.prepare), for sockets written directly
    parsed: Any = None
    traceparent: str | None = None  # the publisher's span, when it traces: the push continues its trace
    epoch: str = ""  # the epoch the reader read it in ("" for a subscriber's own catch-up entries)


@dataclass(slots=True)
class Append:
    """What one event writes: entries on channels and fields of hashes, all or nothing, once per event."""

    event_id: str
    at_ms: int
    entries: list[tuple[str, bytes]] = field(default_factory=list)
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (hash key, field, value)
    traceparent: str | None = None
    guard: tuple[str, str, int] | None = None  # (hash key, field, version): written only if above the recorded


def new_epoch() -> str:
    return secrets.token_hex(6)


def parse_entries(raw: list[Any]) -> list[Entry]:
    entries = []
    for entry_id, values in raw:
        seq = int(entry_id.split(b"-", 1)[0])
        traceparent = values.get(b"p")
        entries.append(Entry(seq, values[b"d"], int(values.get(b"t", 0)),
                             traceparent=traceparent.decode() if traceparent else None))
    return entries


class StreamStore:
    def __init__(self, redis: Redis, maxlen: int, seen_ttl_s: int = 7 * 86400) -> None:
        self.redis = redis
        self.maxlen = maxlen
        self.seen_ttl_s = seen_ttl_s
        self._append = redis.register_script(_APPEND)
        self._position = redis.register_script(_POSITION)

    async def append(self, append: Append) -> bool:
        """Write the event's entries and fields atomically; False if this event id was written before, or if
        every availability item it carries is older than the one published for its (product, night)."""
        return await self.write(append) == 1

    async def write(self, append: Append) -> int:
        """:meth:`append`, answering 1 (written), 0 (a duplicate event) or 2 (stale: nothing newer)."""
        keys = [seen_key(append.event_id)]
        for channel, _ in append.entries:
            keys += [stream_key(channel), meta_key(channel)]
        versioned = [versions_key(c.split(":", 1)[1]) if c.startswith("availability:") else None
                     for c, _ in append.entries]
        guard = append.guard
        hashes = sorted({h for h, _, _ in append.fields} | {v for v in versioned if v} | ({guard[0]} if guard else set()))
        keys += hashes
        args: list[Any] = [self.seen_ttl_s, self.maxlen, new_epoch(), append.at_ms, len(append.entries),
                           append.traceparent or ""]
        args += [hashes.index(guard[0]) + 1, guard[1], guard[2]] if guard else [0, "", 0]
        args += [data for _, data in append.entries]
        args += [hashes.index(v) + 1 if v else 0 for v in versioned]
        for h, name, value in append.fields:
            args += [hashes.index(h) + 1, name, value]
        return int(await self._append(keys=keys, args=args))

    async def position(self, channel: str) -> tuple[str, int]:
        """The channel's (epoch, seq of its last entry), creating the epoch if it has none."""
        epoch, seq = await self._position(keys=[stream_key(channel), meta_key(channel)], args=[new_epoch()])
        return epoch.decode(), int(seq)

    async def queue_position(self, pipe: Any, channel: str) -> None:
        """Queue the position on a MULTI pipeline (its result: [epoch bytes, seq bytes])."""
        await self._position(keys=[stream_key(channel), meta_key(channel)], args=[new_epoch()], client=pipe)

    async def after(self, channel: str, seq: int, count: int | None = None) -> list[Entry]:
        """Entries with a seq above ``seq`` still in the stream, in order."""
        raw = await self.redis.xrange(stream_key(channel), f"{seq + 1}-0", "+", count=count)
        return parse_entries(raw)

    async def latest(self, channel: str, upto: int, count: int) -> list[Entry]:
        """The last ``count`` entries up to ``upto`` (inclusive), oldest first."""
        raw = await self.redis.xrevrange(stream_key(channel), f"{upto}-0", "-", count=count)
        return parse_entries(list(reversed(raw)))

    async def epoch(self, channel: str) -> str | None:
        value = await self.redis.hget(meta_key(channel), "epoch")
        return value.decode() if value is not None else None
