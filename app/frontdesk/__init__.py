"""Front desk: physical rooms, room assignment that can never double-assign, check-in, check-out, no-shows,
and the desk's views (arrivals, departures, in-house, the room board).

- ``domain.py``     the stay's rules and the board's cells: pure
- ``repository.py`` PostgreSQL: rooms, occupancy rows (one exclusion constraint), status moves, nights back
- ``service.py``    the use cases
- ``controller.py`` HTTP: ``/admin/properties/{id}/rooms``, ``/frontdesk/...``
- ``api.py``        the feature's routes and lifespan (the only module that wires the web stack)

A guest's cancellation must refuse a stay whose status is ``checked_in`` (or ``checked_out``, ``no_show``):
``domain.guest_may_cancel(status)`` says so.
"""
