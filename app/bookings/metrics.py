"""What operators see of the booking views: views found older than PostgreSQL and refreshed."""

from __future__ import annotations

from prometheus_client import Counter

VIEW_DRIFT = Counter("resort_booking_views_repaired_total", "Booking views found older than PostgreSQL and refreshed")
