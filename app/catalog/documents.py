"""MongoDB documents of the catalogue (beanie)."""

from __future__ import annotations

from beanie import Document

DOCUMENTS: list[type[Document]] = []
