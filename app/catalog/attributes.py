"""Dynamic attributes of product details: free-form, but the well-known ones of each kind are typed.

Unknown keys are allowed (that is why they live in MongoDB); a known key with the wrong type, a key
that is not a slug, or a value that is not a scalar / list of scalars is refused, naming the field.
Integers must fit BSON's 8 bytes (a larger one would make the MongoDB write fail with a 500).
"""

from __future__ import annotations

import re
from typing import Any

from app.catalog.domain import ProductKind

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_NUMBER = (int, float)
KNOWN: dict[ProductKind, dict[str, tuple[type, ...]]] = {
    ProductKind.ROOM_TYPE: {
        "size_m2": _NUMBER,
        "bed_type": (str,),
        "view": (str,),
        "floor": (int,),
        "beds": (int,),
        "smoking": (bool,),
    },
    ProductKind.FACILITY_SLOT: {
        "facility": (str,),
        "indoor": (bool,),
        "min_age": (int,),
        "equipment_included": (bool,),
    },
    ProductKind.TICKET: {"valid_days": (int,), "age_group": (str,), "lift_access": (bool,), "venue": (str,)},
    ProductKind.PACKAGE: {"includes": (list,), "nights": (int,), "theme": (str,)},
}
_SCALARS = (str, int, float, bool)
_INT64 = range(-(2**63), 2**63)
_NOT_PLAIN = "must be a scalar (integers within 64 bits) or a list of scalars"


def attribute_errors(kind: ProductKind, attributes: dict[str, Any]) -> list[dict[str, str]]:
    """One ``{"field", "message"}`` per bad attribute; empty when all are acceptable."""
    errors = []
    known = KNOWN.get(kind, {})
    for key, value in attributes.items():
        field = f"attributes.{key}"
        if not _KEY.match(key):
            errors.append({"field": field, "message": "attribute names are lower-case snake_case"})
        elif key in known and (not isinstance(value, known[key]) or _is_bool_for_number(value, known[key])):
            names = "/".join(t.__name__ for t in known[key])
            errors.append({"field": field, "message": f"must be {names} for a {kind.value}"})
        elif not _is_plain(value):
            errors.append({"field": field, "message": _NOT_PLAIN})
    return errors


def _is_bool_for_number(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, bool) and bool not in types


def _is_plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_scalar(v) for v in value)
    return _is_scalar(value) or value is None


def _is_scalar(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value in _INT64
    return isinstance(value, _SCALARS)
