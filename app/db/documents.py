"""The beanie document models every process initialises (one list, so each store is set up once)."""

from __future__ import annotations

from beanie import Document


def document_models() -> list[type[Document]]:
    from app.catalog.documents import DOCUMENTS as catalog_documents

    return [*catalog_documents]
