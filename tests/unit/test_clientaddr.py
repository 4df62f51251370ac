"""The client's address behind proxies: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import pytest

from app.clientaddr import apply_trusted_proxies, parse_networks, resolve_client
from app.settings import Settings, SettingsError

PROXIES = parse_networks(["10.0.0.0/24", "192.0.2.7"])


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("203.0.113.5", None, "203.0.113.5"),                          # direct, no header
    ("203.0.113.5", "1.2.3.4", "203.0.113.5"),                     # untrusted peer: its header is ignored
    ("10.0.0.3", "198.51.100.9", "198.51.100.9"),                  # through the load balancer
    ("10.0.0.3", "1.2.3.4, 198.51.100.9", "198.51.100.9"),         # a spoofed left part is not believed
    ("10.0.0.3", "198.51.100.9, 192.0.2.7", "198.51.100.9"),       # two trusted hops are skipped
    ("10.0.0.3", "10.0.0.9, 10.0.0.8", "10.0.0.9"),                # every hop trusted: the leftmost
    ("10.0.0.3", "198.51.100.9, garbage", "10.0.0.3"),             # a malformed hop vouches for nothing
    ("10.0.0.3", " 2001:db8::1 ", "2001:db8::1"),
])
def test_resolve_client(peer: str, header: str | None, expected: str) -> None:
    assert resolve_client(peer, header, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    scope = {"client": ("10.0.0.3", 1234), "headers": [(b"x-forwarded-for", b"198.51.100.9")]}
    apply_trusted_proxies(scope, ())
    assert scope["client"] == ("10.0.0.3", 1234)
    apply_trusted_proxies(scope, PROXIES)
    assert scope["client"][0] == "198.51.100.9"


def test_a_malformed_proxy_setting_is_named() -> None:
    with pytest.raises(SettingsError, match="RESORT_TRUSTED_PROXIES"):
        Settings.from_env({"RESORT_TRUSTED_PROXIES": "10.0.0.0/8,not-an-address"})
    assert Settings.from_env({"RESORT_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"}).trusted_proxies == [
        "10.0.0.0/8", "192.0.2.7"]
