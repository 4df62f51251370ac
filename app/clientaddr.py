"""The caller's address, derived once per request (in :class:`app.observability.RequestContextMiddleware`).

Behind a load balancer the TCP peer is the proxy. ``X-Forwarded-For`` is believed only when the peer is one
of ``RESORT_TRUSTED_PROXIES`` (addresses or networks): walking the header from the right, every hop that is
a trusted proxy is skipped and the first address that is not one is the client. Anybody else's header is
ignored, so a caller cannot pick the address its rate limits and audit rows are filed under.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "192.0.2.7"]`` as networks; ValueError on a malformed entry."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, proxies: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in proxies)


def resolve_client(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client's address given the TCP peer and the ``X-Forwarded-For`` header it sent."""
    if not forwarded_for or not _trusted(_address(peer), proxies):
        return peer
    current = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:  # a malformed hop: the last proxy we trust vouches for nothing further
            return current
        current = str(address)
        if not _trusted(address, proxies):
            return current
    return current


def forwarded_for(scope: Any) -> str | None:
    """Every ``X-Forwarded-For`` header of the request, joined in order."""
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
    return ",".join(values) if values else None


def apply_trusted_proxies(scope: Any, proxies: Sequence[Network]) -> None:
    """Replace ``scope["client"]`` by the real client when a trusted proxy forwarded the request."""
    client = scope.get("client")
    if not proxies or not client:
        return
    real = resolve_client(client[0], forwarded_for(scope), proxies)
    if real != client[0]:
        scope["client"] = (real, 0)


def client_ip(scope: Any) -> str:
    """The request's client address (after :func:`apply_trusted_proxies`); ``""`` when unknown."""
    client = scope.get("client")
    return client[0] if client else ""
