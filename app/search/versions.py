"""Mapping versions: the configured search name is an alias onto ``<name>_v<MAPPING_VERSION>``.

:func:`ensure_current` (run by the api at startup and by the projector) makes a changed mapping take
effect on an existing deployment without emptying search:

1. the alias already points at the current version's index: nothing to do;
2. otherwise it creates that index (if missing), copies the documents of whatever served the name before
   (a concrete index of that name from before versioning, or an older ``_vN`` index behind the alias),
   adding the derived search text, moves the alias in one atomic update and deletes the old index.

A write that lands in the old index during the copy is missed by the new one; reconciliation
(``sync.reconcile``) repairs it (its version differs from PostgreSQL's). Two processes migrating at once
are harmless: copies are ``create`` operations (a conflict keeps the newer document) and the loser of the
alias update finds the alias already moved. An alias already on a NEWER version is left alone, so an
older process never rolls a deployment back.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError
from elasticsearch.helpers import async_bulk, async_scan

from app.search.index import INDEX_SETTINGS, MAPPING, MAPPING_VERSION, with_search_text

log = structlog.get_logger("app.search.versions")


def versioned_name(alias: str, version: int = MAPPING_VERSION) -> str:
    return f"{alias}_v{version}"


def version_of(index: str, alias: str) -> int | None:
    """The mapping version an index of ``alias`` was made for (a pre-versioning index counts as 1)."""
    if index == alias:
        return 1
    found = re.fullmatch(rf"{re.escape(alias)}_v(\d+)", index)
    return int(found.group(1)) if found else None


async def alias_targets(es: AsyncElasticsearch, alias: str) -> list[str]:
    """The indices ``alias`` points at ([] when it is no alias)."""
    found = await es.options(ignore_status=404).indices.get_alias(name=alias)
    return sorted(k for k, v in dict(found).items() if isinstance(v, dict) and "aliases" in v)


async def ensure_current(es: AsyncElasticsearch, alias: str) -> bool:
    """Make ``alias`` serve the current mapping; True when this call created the index."""
    target = versioned_name(alias)
    current = await alias_targets(es, alias)
    if current == [target]:
        return False
    newer = [i for i in current if (version_of(i, alias) or 0) > MAPPING_VERSION]
    if newer:
        log.warning("search_index_newer_than_code", alias=alias, indices=newer, version=MAPPING_VERSION)
        return False
    legacy = not current and await es.indices.exists(index=alias)
    created = await _create(es, target)
    old = [i for i in current if i != target]
    for source in old + ([alias] if legacy else []):
        copied = await copy_documents(es, source, target)
        log.info("search_index_migrated", source=source, target=target, documents=copied)
    await _move_alias(es, alias, target, old, bool(legacy))
    for index in old:
        await es.options(ignore_status=404).indices.delete(index=index)
    return created


async def _create(es: AsyncElasticsearch, index: str) -> bool:
    try:
        await es.indices.create(index=index, settings=INDEX_SETTINGS, mappings=MAPPING)
    except BadRequestError as exc:  # created by a concurrent caller meanwhile
        if "already_exists" not in str(exc):
            raise
        return False
    return True


async def copy_documents(es: AsyncElasticsearch, source: str, target: str) -> int:
    """Copy every document of ``source`` into ``target`` with its derived search text; the count copied."""

    async def actions() -> Any:
        async for hit in async_scan(es, index=source, query={"query": {"match_all": {}}}, size=1000):
            yield {"_op_type": "create", "_index": target, "_id": hit["_id"],
                   "_source": with_search_text(hit["_source"])}

    copied, errors = await async_bulk(es, actions(), chunk_size=1000, raise_on_error=False)
    failed = [e for e in errors if next(iter(e.values())).get("status") != 409]  # 409: written meanwhile
    if failed:
        raise RuntimeError(f"copying {source} to {target} failed for {len(failed)} documents: {failed[:3]}")
    await es.indices.refresh(index=target)
    return copied


async def _move_alias(es: AsyncElasticsearch, alias: str, target: str, old: list[str], legacy: bool) -> None:
    """Point ``alias`` at ``target`` only, in one atomic update (a pre-versioning index goes with it)."""
    actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in old]
    if legacy:
        actions.append({"remove_index": {"index": alias}})
    actions.append({"add": {"index": target, "alias": alias}})
    try:
        await es.indices.update_aliases(actions=actions)
    except ApiError:
        if await alias_targets(es, alias) != [target]:  # not just a concurrent caller having done it
            raise
