"""The polyglot product catalogue: PostgreSQL core, MongoDB details and reviews, Redis-cached views.

- ``domain.py``      the rules (ranges, quotes, availability, the "from" price, expected versions): pure
- ``repository.py``, ``rates.py``  PostgreSQL access
- ``service.py``     the use cases: the one module the controllers call; it drives ``writes.py`` (the
                     PostgreSQL core), ``details.py`` (MongoDB details and reviews) and ``views.py`` (reads)
- ``admin.py``, ``public.py``, ``headers.py``  HTTP; ``api.py`` declares the feature's routes and documents

Admin writes bump the product's version and record an outbox event in the same transaction; the projector
(``sync/``) carries them to search and the read model and calls ``cache.invalidate_product``.
Importing this package (or its domain) does not import the web stack: ``api.py`` wires the routes.
"""
