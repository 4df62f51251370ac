"""Bookings: a booking's domain, repository, use cases, API and read views; its saga runs in ``sagas``."""
