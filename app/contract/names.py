"""Public names of the document's schemas: chosen on purpose, unique, never a module path.

A schema's name is what generated clients call their classes, so it is part of the contract. Each msgspec
``Struct`` (and ``Enum``) of a request or answer is named by its class attribute ``__contract_name__``
when it has one, else by its class name; a test fails when two schemas would share a name, when a name
is not a plain ``PascalCase`` word, and when the names differ from the checked snapshot
(``contract/schema-names.txt``, rewritten by ``python -m app.contract``), so renaming a Python class
never silently renames the public contract::

    class NightOut(Struct):
        __contract_name__ = "HoldNight"   # two modules have a NightOut; partners see two names

Litestar refers to each of them by that name (``PublicNames``, an OpenAPI schema plugin consulted before
its own) and :func:`document_schemas` writes the schemas with msgspec's own JSON Schema, which knows
what the decoder enforces, under the same names.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from litestar.openapi.spec import Schema
from litestar.params import KwargDefinition
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

PUBLIC_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_PLACEHOLDER = "#/components/schemas/{name}"


def public_name(cls: type) -> str:
    """The name partners see: the class's own ``__contract_name__`` (not inherited), else its name."""
    return str(vars(cls).get("__contract_name__") or cls.__name__)


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _named(field_definition: FieldDefinition) -> bool:
    return not field_definition.is_union and field_definition.is_subclass_of((msgspec.Struct, enum.Enum))


class PublicNames(OpenAPISchemaPlugin):
    """Every Struct and Enum Litestar meets becomes a reference to its public name (registered in Litestar's
    own schema registry under that key, with an empty schema that :func:`document_schemas` replaces).
    ``names`` keeps each class met and its name; a second class asking for a taken name gets its module
    path appended, which the contract test reports as a clash."""

    def __init__(self) -> None:
        self.names: dict[type, str] = {}

    def name_of(self, cls: type) -> str:
        if cls not in self.names:
            name = public_name(cls)
            if name in self.names.values():
                name = f"{name}_{qualified(cls).replace('.', '_')}"
            self.names[cls] = name
        return self.names[cls]

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return _named(field_definition)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        registry = schema_creator.schema_registry
        named = FieldDefinition.from_annotation(field_definition.type_, kwarg_definition=KwargDefinition(
            schema_component_key=self.name_of(field_definition.type_)))
        reference = registry.get_reference_for_field_definition(named)
        if reference is None:
            registry.get_schema_for_field_definition(named)
            reference = registry.get_reference_for_field_definition(named)
        return reference  # type: ignore[no-any-return]


def _children(info: Any) -> Iterator[Any]:
    for attribute in ("type", "item_type", "key_type", "value_type"):
        if (child := getattr(info, attribute, None)) is not None:
            yield child
    for attribute in ("types", "item_types"):
        yield from getattr(info, attribute, None) or ()
    for field in getattr(info, "fields", None) or ():
        yield field.type


def named_classes(roots: Iterable[Any]) -> list[type]:
    """Every Struct, dataclass, TypedDict, NamedTuple and Enum reachable from ``roots`` (types or
    annotations): the classes msgspec writes as components. Sorted by module path, so stable."""
    found: dict[type, None] = {}
    pending = list(msgspec.inspect.multi_type_info(list(roots)))
    while pending:
        info = pending.pop()
        cls = getattr(info, "cls", None)
        if isinstance(cls, type):
            if cls in found:
                continue
            found[cls] = None
        pending.extend(_children(info))
    return sorted(found, key=qualified)


def clashes(classes: Iterable[type]) -> dict[str, list[str]]:
    """Public names given to more than one class: name -> the classes' module paths."""
    by_name: dict[str, list[str]] = {}
    for cls in classes:
        by_name.setdefault(public_name(cls), []).append(qualified(cls))
    return {name: paths for name, paths in by_name.items() if len(paths) > 1}


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: (_PLACEHOLDER.format(name=names.get(item.rsplit("/", 1)[-1], item.rsplit("/", 1)[-1]))
                      if key == "$ref" and isinstance(item, str) else _renamed(item, names))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return value


def document_schemas(classes: list[type], names: PublicNames) -> dict[str, dict[str, Any]]:
    """msgspec's JSON Schema of each class, keyed and referenced by ``names``."""
    if not classes:
        return {}
    refs, components = msgspec.json.schema_components(classes, ref_template=_PLACEHOLDER)
    # Each class passed as a root is a bare reference: msgspec's own name for it (its name, or its module
    # path when two classes share one).
    renamed = {ref["$ref"].rsplit("/", 1)[-1]: names.name_of(cls) for cls, ref in zip(classes, refs, strict=True)}
    schemas: dict[str, dict[str, Any]] = {}
    for msgspec_name, schema in components.items():
        name = renamed.get(msgspec_name, msgspec_name)
        schemas[name] = _renamed(schema, renamed)
        schemas[name]["title"] = name
        values = schemas[name].get("enum")
        if values and "type" not in schemas[name] and all(isinstance(v, str) for v in values):
            schemas[name]["type"] = "string"  # msgspec leaves it out; generators want it
    return dict(sorted(schemas.items()))
