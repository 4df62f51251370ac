"""Breaking changes between two documents, as a partner's generated client meets them.

A change is breaking when a client built from the old document can fail on the new server: an
operation gone or its ``operationId`` changed (generated method names), a schema name gone (generated
class names), a success status gone, a parameter or request property that became required or appeared
as required, a request property or parameter value (enum) no longer accepted, an answer property gone
or no longer always present, an answer value (enum) the old client does not know. Each is one stable
line; ``contract/CHANGELOG.md`` acknowledges it by quoting it under ``## Unreleased``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch")


def _operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": operation for path, item in doc.get("paths", {}).items()
            for method, operation in item.items() if method in METHODS}


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item.rsplit("/", 1)[-1]
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _reachable(doc: dict[str, Any], roots: list[Any]) -> set[str]:
    schemas = doc.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    pending = [name for root in roots for name in _refs(root)]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(_refs(schemas.get(name, {})))
    return seen


def directions(doc: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(schemas a client sends, schemas a client reads)."""
    operations = _operations(doc).values()
    sent = _reachable(doc, [[op.get("requestBody"), op.get("parameters")] for op in operations])
    read = _reachable(doc, [op.get("responses") for op in operations])
    return sent, read


def _enum(schema: Any) -> set[Any]:
    return set(schema.get("enum") or []) if isinstance(schema, dict) else set()


def _schema_changes(name: str, old: dict[str, Any], new: dict[str, Any], sent: bool, read: bool) -> Iterator[str]:
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
    if sent:
        for prop in sorted(new_required - old_required):
            yield f"schema {name}: property `{prop}` is now required"
        if new.get("additionalProperties") is False:
            for prop in sorted(set(old_props) - set(new_props)):
                yield f"schema {name}: property `{prop}` is no longer accepted"
        for prop in sorted(set(old_props) & set(new_props)):
            for value in sorted(map(str, _enum(old_props[prop]) - _enum(new_props[prop]))):
                yield f"schema {name}: `{prop}` no longer accepts `{value}`"
        for value in sorted(map(str, _enum(old) - _enum(new))):
            yield f"schema {name}: no longer accepts `{value}`"
    if read:
        for prop in sorted(old_required - new_required):
            yield f"schema {name}: property `{prop}` is no longer always answered"
        for prop in sorted(set(old_props) & set(new_props)):
            if _enum(old_props[prop]):
                for value in sorted(map(str, _enum(new_props[prop]) - _enum(old_props[prop]))):
                    yield f"schema {name}: `{prop}` may answer the new value `{value}`"
        if _enum(old):
            for value in sorted(map(str, _enum(new) - _enum(old))):
                yield f"schema {name}: may answer the new value `{value}`"


def _parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p.get("in", ""), p.get("name", "").lower()): p for p in operation.get("parameters") or []
            if isinstance(p, dict) and "name" in p}


def _operation_changes(label: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
    if old.get("operationId") != new.get("operationId"):
        yield f"operation {label}: operationId `{old.get('operationId')}` is now `{new.get('operationId')}`"
    old_ok = {s for s in old.get("responses", {}) if s.startswith("2")}
    for status in sorted(old_ok - set(new.get("responses", {}))):
        yield f"operation {label}: no longer answers {status}"
    old_params, new_params = _parameters(old), _parameters(new)
    for key, param in sorted(new_params.items()):
        was = old_params.get(key)
        if param.get("required") and not (was and was.get("required")):
            yield f"operation {label}: {key[0]} parameter `{param['name']}` is now required"
        if was is not None:
            for value in sorted(map(str, _enum(was.get("schema")) - _enum(param.get("schema")))):
                yield f"operation {label}: {key[0]} parameter `{param['name']}` no longer accepts `{value}`"
    if (new.get("requestBody") or {}).get("required") and not (old.get("requestBody") or {}).get("required"):
        yield f"operation {label}: a request body is now required"


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every breaking change from ``old`` to ``new``, one stable line each."""
    changes: list[str] = []
    old_ops, new_ops = _operations(old), _operations(new)
    changes += [f"operation {label}: removed" for label in sorted(set(old_ops) - set(new_ops))]
    for label in sorted(set(old_ops) & set(new_ops)):
        changes += _operation_changes(label, old_ops[label], new_ops[label])
    old_schemas = old.get("components", {}).get("schemas", {})
    new_schemas = new.get("components", {}).get("schemas", {})
    changes += [f"schema {name}: removed" for name in sorted(set(old_schemas) - set(new_schemas))]
    sent, read = directions(new)
    for name in sorted(set(old_schemas) & set(new_schemas)):
        changes += _schema_changes(name, old_schemas[name], new_schemas[name], name in sent, name in read)
    return changes
