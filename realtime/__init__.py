"""Live availability, booking progress and the front-desk feed over one WebSocket endpoint, ``/live``.

- ``realtime.publisher`` (worker role ``publisher``): Kafka ``inventory``, ``holds``, ``bookings`` ->
  sequenced per-channel entries in Redis Streams (``realtime.store``), each with an epoch.
- ``realtime.hub``: one reader per channel per api process, fanning entries out to local connections.
- ``realtime.session`` / ``realtime.connection``: the protocol, snapshots and resume, bounded buffers,
  conflation and slow-client closes; ``realtime.access``: who may listen.
- ``/asyncapi.json`` documents the protocol; ``/live/guest`` and ``/live/frontdesk`` are the two pages.
"""

