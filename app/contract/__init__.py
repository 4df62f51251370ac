"""The published contract: schema names chosen on purpose, the document's version, compatibility with the
last released document. ``python -m app.contract`` rewrites the checked snapshots (see ``__main__``)."""
