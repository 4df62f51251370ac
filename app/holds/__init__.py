"""Holds that never oversell: short claims on per-night inventory while a guest or partner pays.

- ``domain.py``     the rules (dates, lines, lock keys, limits, lifetime): pure
- ``locks.py``      Redis: fenced per-(product, night) locks, sold-out marks, lease keys
- ``repository.py`` PostgreSQL: guarded + fenced inventory moves, hold rows, events, audit
- ``service.py``    the use cases: place (where a hold is taken), read, list, release
- ``sweeper.py``    the ``sweeper`` role: every hold ends, whatever Redis or a process lost
- ``controller.py`` HTTP: ``POST /holds`` (Idempotency-Key), ``GET /holds``, ``GET|DELETE /holds/{id}``
- ``api.py``        the feature's routes and lifespan (the only module that wires the web stack)
"""
