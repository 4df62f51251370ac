"""The inventory aggregate's arithmetic, pure (no I/O): one (product, night) and the moves allowed on it.

Invariants, for every row at every commit (also CHECK constraints in PostgreSQL, migration 0070):
- ``capacity``, ``held``, ``sold``, ``out_of_service`` are never negative;
- ``held + sold + out_of_service <= capacity``: never an oversell, never a room out of order sold;
- ``free = capacity - held - sold - out_of_service`` is what can still be held.
Each move below either keeps them or is refused with a reason; ``repository`` applies the same rules as
guarded SQL so that concurrent writers cannot break them either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace


class InventoryRefused(Exception):
    """A move that would break an invariant; ``code`` is the stable problem code callers answer with."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True, slots=True)
class Night:
    """What is left of one (product, night)."""

    night: dt.date
    capacity: int
    held: int = 0
    sold: int = 0
    out_of_service: int = 0

    @property
    def committed(self) -> int:
        """Units nobody else can have: held, sold or out of service."""
        return self.held + self.sold + self.out_of_service

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.committed)

    @property
    def sold_out(self) -> bool:
        return self.free == 0

    def broken(self) -> list[str]:
        """The invariants this state breaks (empty: none)."""
        problems = [f"{name} < 0" for name in ("capacity", "held", "sold", "out_of_service")
                    if getattr(self, name) < 0]
        if self.committed > self.capacity:
            problems.append("held + sold + out_of_service > capacity")
        return problems

    def take(self, units: int) -> Night:
        """Hold ``units`` (refused when fewer are free)."""
        _positive(units)
        if units > self.free:
            raise InventoryRefused("sold_out", f"{self.night}: {units} wanted, {self.free} free")
        return replace(self, held=self.held + units)

    def fit(self, wants: list[int]) -> int:
        """How many of ``wants`` (units, in arrival order) can be held together: the longest prefix whose sum is
        free. First come, first served: a later claim never passes an earlier one that did not fit."""
        left, count = self.free, 0
        for units in wants:
            _positive(units)
            if units > left:
                break
            left, count = left - units, count + 1
        return count

    def release(self, units: int) -> Night:
        """A hold ends (released, expired, failed): its units are free again."""
        _positive(units)
        if units > self.held:
            raise InventoryRefused("not_held", f"{self.night}: {units} to release, {self.held} held")
        return replace(self, held=self.held - units)

    def sell(self, units: int) -> Night:
        """A booking confirms its hold: held units become sold."""
        _positive(units)
        if units > self.held:
            raise InventoryRefused("not_held", f"{self.night}: {units} to sell, {self.held} held")
        return replace(self, held=self.held - units, sold=self.sold + units)

    def unsell(self, units: int) -> Night:
        """A sold unit comes back (cancellation, a failed saga's compensation, an early check-out)."""
        _positive(units)
        if units > self.sold:
            raise InventoryRefused("not_sold", f"{self.night}: {units} to unsell, {self.sold} sold")
        return replace(self, sold=self.sold - units)

    def with_capacity(self, capacity: int) -> Night:
        """A new capacity, never below what is held, sold or out of service."""
        if capacity < self.committed:
            raise InventoryRefused("capacity_below_committed",
                                   f"{self.night}: capacity {capacity} < {self.committed} held, sold or out of service")
        return replace(self, capacity=capacity)

    def with_out_of_service(self, units: int) -> Night:
        """Rooms out of order or out of service lower what can be sold, never below what is held or sold."""
        if units < 0:
            raise InventoryRefused("validation_failed", "out of service units cannot be negative")
        if self.held + self.sold + units > self.capacity:
            raise InventoryRefused("out_of_service_conflict",
                                   f"{self.night}: {units} out of service leaves fewer than the "
                                   f"{self.held + self.sold} held or sold")
        return replace(self, out_of_service=units)


def _positive(units: int) -> None:
    if units <= 0:
        raise InventoryRefused("validation_failed", f"units must be positive, not {units}")


def capacity_conflicts(nights: Iterable[Night], new_capacity: int) -> list[dt.date]:
    """Nights that cannot take ``new_capacity`` (it would fall below what they committed), in order:
    such a change is refused whole."""
    return sorted(n.night for n in nights if n.committed > new_capacity)


def free_of(row: object) -> int:
    """Free units of a row read from the ``inventory`` table (any mapping with the counts)."""
    get = row.__getitem__  # type: ignore[attr-defined]
    oos = get("out_of_service") if "out_of_service" in row else 0  # type: ignore[operator]
    return max(0, get("capacity") - get("held") - get("sold") - oos)
