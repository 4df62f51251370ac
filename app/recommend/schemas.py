"""The answers of the recommendation endpoints (documented in the OpenAPI document)."""

from __future__ import annotations

import msgspec


class Labels(msgspec.Struct, kw_only=True):
    """Real counts only: ``left`` is live inventory (shown when scarce), ``booked_this_week`` the rollup."""

    left: int | None = None
    booked_this_week: int | None = None


class Suggestion(msgspec.Struct, kw_only=True):
    product_id: str
    name: str
    kind: str
    reason: str
    reasons: list[str]
    score: int
    labels: Labels


class Recommendations(msgspec.Struct, kw_only=True):
    property_id: str
    check_in: str
    check_out: str
    personal: bool
    items: list[Suggestion]


class Related(msgspec.Struct, kw_only=True):
    product_id: str
    items: list[Suggestion]
