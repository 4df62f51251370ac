"""Inventory: what is left of a (product, night) — capacity, held, sold, out of service — computed and
changed here only (``domain`` states the arithmetic and its invariants; ``repository`` is the only SQL that
moves the counts, each statement guarded exactly as the domain rule it mirrors). Holds, bookings,
cancellations, the front desk, the catalogue's capacity changes and the sweeper all call this folder."""
