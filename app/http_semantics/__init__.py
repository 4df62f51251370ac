"""HTTP semantics partners and proxies rely on: ``HEAD`` on every ``GET`` route (``head``), validators,
freshness and ``Vary`` on reads (``caching``)."""
