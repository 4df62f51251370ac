"""The booking saga's worker roles (the bookings tests' fixture) for the partner journey."""

from tests.integration.bookings.conftest import saga_roles

__all__ = ["saga_roles"]
