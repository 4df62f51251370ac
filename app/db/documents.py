"""beanie's binding of document models to one MongoDB database, process-wide.

The models are passed in: each feature declares its own (``DOCUMENTS`` of its ``api`` module) and the
composition root (``app.main``) hands them to ``app.resources.open_resources``; nothing here imports a
feature. A process normally binds once; tests open several apps (each on its own event loop), so the
first one to bind owns the binding and later ones reuse it rather than rebinding the documents to a
client of another loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from beanie import Document, init_beanie

_owner: list[object] = []


async def bind_documents(database: object, models: Sequence[type[Document]]) -> bool:
    """Bind ``models`` to ``database`` unless already bound (or there are none); True if this call bound."""
    if _owner or not models:
        return False
    await init_beanie(database=database, document_models=list(models))
    _owner.append(database)
    return True


def unbind_documents() -> None:
    _owner.clear()
