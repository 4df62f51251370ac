"""The reports' answers (documented in the OpenAPI document)."""

from __future__ import annotations

import msgspec


class FunnelRow(msgspec.Struct, kw_only=True):
    search: int
    view: int
    hold: int
    booking: int
    cancellation: int
    review: int
    zero_result: int
    view_per_search: float | None
    hold_per_view: float | None
    booking_per_hold: float | None
    booking_per_search: float | None


class FunnelDay(FunnelRow, kw_only=True):
    day: str


class FunnelReport(msgspec.Struct, kw_only=True):
    property_id: str
    start: str
    end: str
    days: list[FunnelDay]
    totals: FunnelRow


class DemandNight(msgspec.Struct, kw_only=True):
    night: str
    interest: int
    holds: int
    bookings: int
    cancellations: int


class DemandReport(msgspec.Struct, kw_only=True):
    property_id: str
    start: str
    end: str
    nights: list[DemandNight]


class SearchRow(msgspec.Struct, kw_only=True):
    query: str
    count: int
    zero: int


class SearchesReport(msgspec.Struct, kw_only=True):
    zero_only: bool
    items: list[SearchRow]


class CancellationRow(msgspec.Struct, kw_only=True):
    product_id: str
    rate_plan: str
    bookings: int
    cancellations: int
    cancellation_rate: float | None


class CancellationsReport(msgspec.Struct, kw_only=True):
    property_id: str
    items: list[CancellationRow]


class PairRow(msgspec.Struct, kw_only=True):
    a: str
    b: str
    count: int
    a_name: str
    b_name: str


class PairsReport(msgspec.Struct, kw_only=True):
    items: list[PairRow]


class BookingsDifference(msgspec.Struct, kw_only=True):
    rollup: str  # demand (key product|night) or rates (key product|rate plan)
    key: str
    counter: str  # bookings or cancellations
    bookings_table: int
    rollup_count: int


class BookingsCheck(msgspec.Struct, kw_only=True):
    """The rollups of a resort's bookings against PostgreSQL's bookings table (``app.activity.check``)."""

    property_id: str
    start: str
    end: str
    bookings: int
    forgotten: int
    pending: int
    clean: bool
    differences: list[BookingsDifference]
