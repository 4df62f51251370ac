"""bench.peak counts a 503 that is not ``busy`` as a server error: only ``busy`` is retried and set apart."""

from __future__ import annotations

from bench.peak.client import Tally


def test_a_503_that_is_not_busy_is_a_server_error() -> None:
    tally = Tally()
    tally.statuses.update({201: 10, 503: 7, 500: 1})
    tally.busy_retries = 5  # five of the seven 503s said "busy"; two said payment_provider_unavailable
    assert tally.server_errors == 3
