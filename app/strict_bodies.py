"""JSON bodies are decoded as strictly as the OpenAPI document describes them.

Litestar converts request data in msgspec's lax mode (``"5"`` for an integer, ``0`` for a boolean are
accepted), which the document does not say. This request class checks the body against the handler's
``data`` type in strict mode first; a mismatch is the usual 422 ``validation_failed`` naming the field.
A whole float (``1.0``) is an integer, as in JSON Schema.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

_WHERE = re.compile(r" - at `\$\.?(?P<key>[^`]*)`$")


def _whole_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_floats_as_ints(v) for k, v in value.items()}
    return value


class StrictRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        value = await super().json()
        parameter = self.scope["route_handler"].parsed_fn_signature.parameters.get("data")
        if parameter is not None and value is not None:
            try:
                msgspec.convert(_whole_floats_as_ints(value), type=parameter.annotation, strict=True, str_keys=True)
            except msgspec.ValidationError as exc:
                message = str(exc)
                match = _WHERE.search(message)
                key = match["key"] if match else "data"
                raise ValidationException(message, extra=[{"key": key, "source": "body", "message": message}]) \
                    from None
        return value
