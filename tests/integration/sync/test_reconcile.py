"""Reconciliation repairs what drifted behind the system's back, and the command reports it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from app.resources import Resources
from app.settings import Settings
from sync import stores
from sync.metrics import RECONCILE_DRIFT
from sync.projector import CatalogProjector
from sync.reconcile import Drift, reconcile
from tests.integration.sync.rows import change_product, create_product, create_property


async def _projected_property(resources: Resources, unique: str, count: int = 4) -> tuple[str, list[str]]:
    prop = await create_property(resources.db, f"rec-{unique}")
    pids = [await create_product(resources.db, prop, name=f"Room {i}", nights=3) for i in range(count)]
    projector = CatalogProjector.from_resources(resources)
    await projector.prepare()
    for pid in pids:
        await projector.project(pid, refresh="wait_for")
    return prop, pids


async def test_repairs_tampered_search_document_and_deleted_read_model(
        sync_resources: Resources, settings: Settings, unique: str) -> None:
    prop, (tampered, deleted, deactivated, untouched) = await _projected_property(sync_resources, unique)
    es, index = sync_resources.es, settings.search_index
    read_models = sync_resources.mongo[settings.mongo_db][stores.READ_MODELS]
    await es.update(index=index, id=tampered, doc={"name_en": "HACKED", "price_min": 1}, refresh="wait_for")
    await read_models.delete_one({"product_id": deleted})
    version = await change_product(sync_resources.db, deactivated, active=False)  # its event was lost
    orphan = str(uuid.uuid4())
    ghost = dict((await es.get(index=index, id=untouched))["_source"], product_id=orphan)
    await es.index(index=index, id=orphan, document=ghost, refresh="wait_for")

    report = await reconcile(sync_resources, property_id=prop)
    assert set(report.drifts) == {
        Drift(tampered, "search", "tampered"), Drift(deleted, "read_model", "missing"),
        Drift(deactivated, "search", "inactive"), Drift(deactivated, "read_model", "version"),
        Drift(orphan, "search", "orphan"),
    }
    assert report.repaired == 4 and not report.failed
    assert RECONCILE_DRIFT.labels("search")._value.get() == 3
    assert (await es.get(index=index, id=tampered))["_source"]["name_en"] == "Room 0"
    assert (await read_models.find_one({"product_id": deleted}))["core"]["name"] == "Room 1"
    assert not (await es.options(ignore_status=404).get(index=index, id=deactivated)).get("found")
    assert (await read_models.find_one({"product_id": deactivated}))["version"] == version
    assert not (await es.options(ignore_status=404).get(index=index, id=orphan)).get("found")

    again = await reconcile(sync_resources, property_id=prop)
    assert again.drifts == [] and RECONCILE_DRIFT.labels("search")._value.get() == 0


async def test_a_newer_looking_forgery_is_replaced(sync_resources: Resources, settings: Settings,
                                                   unique: str) -> None:
    prop, (pid,) = await _projected_property(sync_resources, unique, count=1)
    es, index = sync_resources.es, settings.search_index
    await es.update(index=index, id=pid, doc={"version": 99, "name_en": "FORGED"}, refresh="wait_for")
    report = await reconcile(sync_resources, property_id=prop)
    assert report.drifts == [Drift(pid, "search", "version")]
    source = (await es.get(index=index, id=pid))["_source"]
    assert (source["version"], source["name_en"]) == (1, "Room 0")


async def test_reconcile_command_reports(sync_resources: Resources, settings: Settings, unique: str) -> None:
    prop, (pid, _) = await _projected_property(sync_resources, unique, count=2)
    await sync_resources.mongo[settings.mongo_db][stores.READ_MODELS].delete_one({"product_id": pid})
    env = {**os.environ, **settings.to_env()}
    done = subprocess.run([sys.executable, "-m", "app.cli", "reconcile", "--property", prop],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "reconciliation of 2 products" in done.stderr and "repaired products 1" in done.stderr
    assert await sync_resources.mongo[settings.mongo_db][stores.READ_MODELS].find_one({"product_id": pid})
