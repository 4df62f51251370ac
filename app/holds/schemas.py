"""The holds API's bodies (msgspec validates them; a bad field is a 422 naming it) and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
import msgspec
from msgspec import Meta, Struct

from app.holds.domain import HoldRequest

ProductId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$",
                                description="the product's id (a UUID)")]
PlanCode = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="rate plan code")]
Quantity = Annotated[int, Meta(ge=1, le=50, description="units (rooms, slots, packages); tickets: 1")]
Guests = Annotated[int, Meta(ge=1, le=100, description="people in the party")]

EXAMPLE = {"product_id": "7d1f6c1e-0d7a-4b7e-9a51-1c2d3e4f5a6b", "check_in": "2027-01-10",
           "check_out": "2027-01-12", "quantity": 1, "guests": 2, "rate_plan": "standard"}


class HoldIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """What to hold: a product, a stay ``[check_in, check_out)`` (a ticket or slot: one date, check_out the
    next day), how many units, for how many guests, at which rate plan."""

    product_id: ProductId
    check_in: dt.date
    check_out: dt.date
    quantity: Quantity
    guests: Guests
    rate_plan: PlanCode = "standard"

    def to_request(self) -> HoldRequest:
        return HoldRequest(self.product_id, self.check_in, self.check_out, self.quantity, self.guests,
                           self.rate_plan)


class NightOut(Struct, kw_only=True):
    """One night of a hold and its price."""

    __contract_name__ = "HoldNight"  # the catalogue's NightOut is another schema (app.contract.names)
    night: dt.date
    amount: int


class HoldOut(Struct, kw_only=True):
    id: str
    status: Annotated[str, Meta(description="held, released, expired or converted")]
    expires_at: dt.datetime
    product_id: str
    property_id: str
    check_in: dt.date
    check_out: dt.date
    quantity: int
    guests: int
    rate_plan: str
    nights: list[NightOut]
    total_amount: int
    currency: str
    created_at: dt.datetime
    ended_at: dt.datetime | None = None


class HoldPage(Struct, kw_only=True):
    items: list[HoldOut]
    page: int
    per_page: int
    total: int


def hold_out(row: asyncpg.Record) -> HoldOut:
    return HoldOut(
        id=str(row["id"]), status=row["status"], expires_at=row["expires_at"], product_id=str(row["product_id"]),
        property_id=row["property_id"], check_in=row["check_in"], check_out=row["check_out"],
        quantity=row["quantity"], guests=row["guests"], rate_plan=row["rate_plan"],
        nights=msgspec.json.decode(row["nights"], type=list[NightOut]), total_amount=row["total_amount"],
        currency=row["currency"].strip(), created_at=row["created_at"], ended_at=row["ended_at"],
    )

