"""Reconciliation: compare PostgreSQL (the truth) with the search index and the read models, repair drift.

Drift is: a document missing for an active product, a version different from PostgreSQL's, content
that no longer matches its own fingerprint (changed behind the projector's back), a search document of
an inactive product, or any document of a product PostgreSQL does not have. Repair re-projects the
product from the current state (and deletes first when a stored document claims a newer version).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import NotFoundError
from elasticsearch.helpers import async_scan

from app.catalog.cache import bump_search_generation, invalidate_product
from app.resources import Resources
from app.search.index import search_text_consistent
from sync import stores
from sync.documents import fingerprint
from sync.metrics import RECONCILE_DRIFT, RECONCILE_REPAIRED
from sync.projector import CatalogProjector

Progress = Callable[[str, int, int], None]  # (stage, done, total)
STORES = ("search", "read_model")


@dataclass(frozen=True, slots=True)
class Stored:
    """What a store holds for a product: its version and whether its content matches its fingerprint."""

    version: int
    intact: bool


@dataclass(frozen=True, slots=True)
class Drift:
    product_id: str
    store: str
    reason: str  # missing, version, tampered, inactive, orphan


@dataclass(slots=True)
class ReconcileReport:
    products: int = 0
    drifts: list[Drift] = field(default_factory=list)
    repaired: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {store: sum(1 for d in self.drifts if d.store == store) for store in STORES}

    def summary(self) -> dict[str, Any]:
        return {"products": self.products, "drift": len(self.drifts), **{f"drift_{k}": v for k, v in
                self.counts().items()}, "repaired": self.repaired, "failed": len(self.failed),
                "seconds": round(self.seconds, 3)}


def intact(document: dict[str, Any]) -> bool:
    content = {k: v for k, v in document.items() if k not in {"_id", "revision_id"}}
    return content.get("fingerprint") == fingerprint(content)


def find_drift(truth: dict[str, tuple[int, bool]], search: dict[str, Stored],
               read_models: dict[str, Stored]) -> list[Drift]:
    """Pure comparison. ``truth`` maps product id -> (version, active) from PostgreSQL."""
    drifts: list[Drift] = []
    for pid, (version, active) in truth.items():
        drifts.extend(_check(pid, "search", search.get(pid), version, expected=active))
        drifts.extend(_check(pid, "read_model", read_models.get(pid), version, expected=True))
    for store, held in (("search", search), ("read_model", read_models)):
        drifts.extend(Drift(pid, store, "orphan") for pid in held if pid not in truth)
    return drifts


def _check(pid: str, store: str, stored: Stored | None, version: int, *, expected: bool) -> Iterable[Drift]:
    if not expected:
        return [Drift(pid, store, "inactive")] if stored is not None else []
    if stored is None:
        return [Drift(pid, store, "missing")]
    if stored.version != version:
        return [Drift(pid, store, "version")]
    if not stored.intact:
        return [Drift(pid, store, "tampered")]
    return []


async def load_truth(resources: Resources, property_id: str | None) -> dict[str, tuple[int, bool]]:
    rows = await resources.db.fetch(
        "SELECT id::text AS id, version, active FROM products WHERE $1::text IS NULL OR property_id = $1",
        property_id)
    return {r["id"]: (int(r["version"]), bool(r["active"])) for r in rows}


async def load_search(resources: Resources, property_id: str | None) -> dict[str, Stored]:
    query = {"term": {"property_id": property_id}} if property_id else {"match_all": {}}
    found: dict[str, Stored] = {}
    try:
        async for hit in async_scan(resources.es, index=resources.settings.search_index,
                                    query={"query": query}, size=500):
            source = hit["_source"]
            found[hit["_id"]] = Stored(int(source.get("version") or 0),
                                        intact(source) and search_text_consistent(source))
    except NotFoundError:
        pass
    return found


async def load_read_models(resources: Resources, property_id: str | None) -> dict[str, Stored]:
    collection = resources.mongo[resources.settings.mongo_db][stores.READ_MODELS]
    found: dict[str, Stored] = {}
    async for doc in collection.find({"property_id": property_id} if property_id else {}):
        doc.pop("projected_at", None)
        found[str(doc["product_id"])] = Stored(int(doc.get("version") or 0), intact(doc))
    return found


async def repair(projector: CatalogProjector, product_id: str) -> None:
    """Re-project; a store that keeps a 'newer' (tampered) version loses that document first."""
    result = await projector.project(product_id)
    if stores.Outcome.STALE in (result.search, result.read_model):
        if result.search is stores.Outcome.STALE:
            await stores.delete_search_document(projector.es, projector.settings.search_index, product_id)
        if result.read_model is stores.Outcome.STALE:
            await projector.mongo[stores.READ_MODELS].delete_one({"product_id": product_id})
        await projector.project(product_id)


async def reconcile(resources: Resources, *, property_id: str | None = None, dry_run: bool = False,
                    progress: Progress | None = None) -> ReconcileReport:
    """Compare every product (of one property, or all), repair the drift unless ``dry_run``."""
    began = time.monotonic()
    notify = progress or (lambda *_: None)
    report = ReconcileReport()
    projector = CatalogProjector.from_resources(resources)
    await projector.prepare()
    notify("load", 0, 3)
    truth = await load_truth(resources, property_id)
    notify("load", 1, 3)
    search = await load_search(resources, property_id)
    notify("load", 2, 3)
    read_models = await load_read_models(resources, property_id)
    notify("load", 3, 3)
    report.products = len(truth)
    report.drifts = find_drift(truth, search, read_models)
    for store, count in report.counts().items():
        RECONCILE_DRIFT.labels(store).set(count)
    drifted_stores: dict[str, list[str]] = collections.defaultdict(list)
    for drift in report.drifts:
        drifted_stores[drift.product_id].append(drift.store)
    targets = sorted(drifted_stores)
    if not dry_run and targets:
        for done, product_id in enumerate(targets, start=1):
            try:
                await repair(projector, product_id)
                await invalidate_product(resources.redis, product_id)
                report.repaired += 1
                for store in drifted_stores[product_id]:
                    RECONCILE_REPAIRED.labels(store).inc()
            except Exception:  # noqa: BLE001 - reported, retried next run
                report.failed.append(product_id)
            notify("repair", done, len(targets))
        await resources.es.indices.refresh(index=resources.settings.search_index)
        await bump_search_generation(resources.redis)
    report.seconds = time.monotonic() - began
    return report
