"""The front desk's rules, pure: which stay transitions are allowed when, and the room board's cells.

A stay after the saga: ``confirmed`` -> ``checked_in`` -> ``checked_out``, or ``confirmed`` -> ``no_show``.
Each transition is idempotent (asking again for the state it is already in answers the same), and every
date is the property's local date (``today`` is computed in its time zone by the caller).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

STAY_STATES = ("checked_in", "checked_out", "no_show")
HOUSEKEEPING = ("dirty", "clean", "inspected", "out_of_order")
READY = frozenset({"clean", "inspected"})  # a room a guest may be checked into without a word
# A guest (or partner) may not cancel a stay in these states: the saga's cancellation checks this.
NOT_CANCELLABLE = frozenset(STAY_STATES)
ASSIGNABLE = frozenset({"confirmed", "checked_in"})
BOARD_MAX_NIGHTS = 62
FREE, ASSIGNED, OCCUPIED, OUT_OF_SERVICE = "free", "assigned", "occupied", "out_of_service"


class FrontDeskRefused(ValueError):
    """A refusal of the rules: HTTP ``status``, a stable ``code``, and details for the problem body."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


@dataclass(frozen=True, slots=True)
class Staff:
    """Who acts at the desk: how audit rows name them, and the properties they may act on (None: every
    property, an administrator)."""

    actor: str
    properties: frozenset[str] | None = None

    def check(self, property_id: str) -> None:
        """Refuse (403 ``property_forbidden``) a property the caller is not staff of."""
        if self.properties is not None and property_id not in self.properties:
            raise FrontDeskRefused(403, "property_forbidden", f"you are not staff of property {property_id}",
                                   property_id=property_id)


def guest_may_cancel(status: str) -> bool:
    """False once the guest is (or was) in the house: a checked-in stay cannot be cancelled by the guest."""
    return status not in NOT_CANCELLABLE


@dataclass(frozen=True, slots=True)
class Stay:
    """What the rules need of a booking."""

    status: str
    check_in: dt.date
    check_out: dt.date
    has_room: bool


def check_in(stay: Stay, today: dt.date) -> bool:
    """True to move to ``checked_in``; False when already there (idempotent); refuses otherwise."""
    if stay.status == "checked_in":
        return False
    _must_be_confirmed(stay, "check in")
    if today < stay.check_in:
        raise FrontDeskRefused(409, "before_arrival", f"the stay starts on {stay.check_in.isoformat()}; today is "
                               f"{today.isoformat()} at the property", check_in=stay.check_in.isoformat())
    if today >= stay.check_out:
        raise FrontDeskRefused(409, "stay_over", f"the stay ended on {stay.check_out.isoformat()}")
    if not stay.has_room:
        raise FrontDeskRefused(409, "no_room_assigned", "assign a room before checking in")
    return True


def check_out(stay: Stay) -> bool:
    """True to move to ``checked_out``; False when already checked out; only after check-in."""
    if stay.status == "checked_out":
        return False
    if stay.status != "checked_in":
        raise FrontDeskRefused(409, "not_checked_in", f"the stay is {stay.status}: check in first",
                               stay_status=stay.status)
    return True


def no_show(stay: Stay, today: dt.date) -> bool:
    """True to move to ``no_show``; only a confirmed stay whose arrival day has ended at the property."""
    if stay.status == "no_show":
        return False
    if stay.status == "checked_in":
        raise FrontDeskRefused(409, "checked_in", "the guest has checked in: not a no-show")
    _must_be_confirmed(stay, "mark as no-show")
    if today <= stay.check_in:
        raise FrontDeskRefused(409, "arrival_day_not_over", f"the arrival day {stay.check_in.isoformat()} has not "
                               "ended at the property", check_in=stay.check_in.isoformat())
    return True


def _must_be_confirmed(stay: Stay, what: str) -> None:
    if stay.status != "confirmed":
        raise FrontDeskRefused(409, "invalid_status", f"cannot {what} a stay that is {stay.status}",
                               stay_status=stay.status)


def unused_from(stay: Stay, today: dt.date) -> dt.date | None:
    """On check-out, the first night given back to inventory (the guest does not sleep tonight), or None."""
    first = max(today, stay.check_in)
    return first if first < stay.check_out else None


def ready_for_guest(state: str, refuse: bool) -> list[str]:
    """Checking a guest into a room of housekeeping ``state``: nothing to say when clean or inspected;
    otherwise a warning, or a refusal (409 ``room_not_clean``) when the property says so."""
    if state in READY:
        return []
    if refuse:
        raise FrontDeskRefused(409, "room_not_clean", f"the room is {state}: housekeeping first",
                               housekeeping=state)
    return ["room_not_clean"]


def slot_type(party: list[Any], slot: int) -> Any:
    """The room type of the party's room ``slot`` (1-based); 404 ``slot_not_found`` past the party."""
    if not 1 <= slot <= len(party):
        raise FrontDeskRefused(404, "slot_not_found", f"the booking has {len(party)} room(s); no room {slot}",
                               rooms=len(party))
    return party[slot - 1]


def party_refusal(rooms: int, guests: int | None, max_rooms: int, max_guests_per_room: int) -> tuple[str, str] | None:
    """A party past its size limits (settings ``party_max_rooms``, ``party_max_guests_per_room``): the problem
    code and message to refuse it with (422), or None within the bounds."""
    if rooms > max_rooms:
        return "party_too_large", f"{rooms} rooms: a party takes at most {max_rooms}"
    if guests is not None and guests > rooms * max_guests_per_room:
        return "too_many_guests_per_room", f"{guests} guests in {rooms} room(s): at most {max_guests_per_room} a room"
    return None


def not_cancelled(slot: int, cancelled: set[int]) -> None:
    """A room of the party cancelled on its own takes no room and no guest: 409 ``room_cancelled``."""
    if slot in cancelled:
        raise FrontDeskRefused(409, "room_cancelled", f"room {slot} of the party is cancelled", slot=slot)


def may_assign(status: str) -> None:
    if status not in ASSIGNABLE:
        raise FrontDeskRefused(409, "invalid_status", f"cannot assign a room to a stay that is {status}",
                               stay_status=status)


def stay_start(status: str, check_in: dt.date, check_out: dt.date, today: dt.date) -> dt.date:
    """The first night a (re)assignment claims: a guest in the house moves from tonight on (the nights
    already slept are not claimed again in the new room). A stay with no night left (its departure day
    has come) cannot be moved: 409 ``stay_over``."""
    start = max(check_in, today) if status == "checked_in" else check_in
    if today >= check_out:
        raise FrontDeskRefused(409, "stay_over", f"the stay ended on {check_out.isoformat()}: no night is left "
                               "to move", check_out=check_out.isoformat(), stay_status=status)
    return start


def board_range(start: dt.date, end: dt.date) -> list[dt.date]:
    """The board's nights, [start, end); at most ``BOARD_MAX_NIGHTS``."""
    nights = (end - start).days
    if nights <= 0:
        raise FrontDeskRefused(422, "invalid_date_range", "`to` must be after `from`")
    if nights > BOARD_MAX_NIGHTS:
        raise FrontDeskRefused(422, "date_range_too_long", f"at most {BOARD_MAX_NIGHTS} nights per board")
    return [start + dt.timedelta(days=i) for i in range(nights)]


class Occupancy(NamedTuple):
    """One occupancy row: a room, its nights [start, end), a kind, and the booking's id and status (a tuple:
    a board of 500 rooms over 30 nights builds thousands of them per request)."""

    room_id: Any
    start: dt.date
    end: dt.date
    kind: str
    booking_id: Any = None
    status: str | None = None

    @property
    def state(self) -> str:
        if self.kind == "out_of_service":
            return OUT_OF_SERVICE
        return OCCUPIED if self.status in ("checked_in", "checked_out") else ASSIGNED


@dataclass
class BoardRow:
    room_id: Any
    cells: list[str]
    bookings: list[Any] = field(default_factory=list)


def board(room_ids: Iterable[Any], nights: list[dt.date], rows: Iterable[Occupancy]) -> dict[Any, BoardRow]:
    """Rooms x nights: each cell free, assigned, occupied or out of service, with the booking of each cell."""
    first, count = nights[0].toordinal(), len(nights)
    grid = {r: BoardRow(r, [FREE] * count, [None] * count) for r in room_ids}
    for occ in rows:
        row = grid.get(occ.room_id)
        if row is None:
            continue
        lo, hi = max(0, occ.start.toordinal() - first), min(count, occ.end.toordinal() - first)
        if hi > lo:
            row.cells[lo:hi] = [occ.state] * (hi - lo)
            row.bookings[lo:hi] = [str(occ.booking_id) if occ.booking_id else None] * (hi - lo)
    return grid


# The desk's lists of a day: every stay the day concerns is in exactly one, through its whole life.
DESK_LISTS = ("arrivals", "in_house", "departures", "departed", "no_shows", "cancelled")


def desk_list(status: str, check_in: dt.date, check_out: dt.date, day: dt.date,
              left_on: dt.date | None = None) -> str | None:
    """Which list of ``day`` shows the stay, or None when the day does not concern it. Expected arrivals
    (confirmed, until the night audit or a clerk marks them no-show), guests in the house, guests due out
    (on or after their departure day, until checked out), guests gone today, no-shows and cancellations
    of the stay's nights. The page's script (realtime/static/frontdesk.js) applies the same rule."""
    if status == "checked_in":
        if day < check_in:
            return None
        return "departures" if day >= check_out else "in_house"
    if status == "checked_out":
        return "departed" if day == (left_on or check_out) else None
    if not check_in <= day < check_out:
        return None
    return {"confirmed": "arrivals", "no_show": "no_shows", "cancelling": "cancelled",
            "cancelled": "cancelled"}.get(status)
