"""Say in the OpenAPI document what the app really answers on errors: RFC 9457 problem+json.

Litestar documents generated error responses (400 validation, 401, ...) as ``application/json``; this
rewrites them once, at start-up, to ``application/problem+json`` with one shared ``Problem`` schema.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from app.errors import PROBLEM_JSON

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="An RFC 9457 problem; switch on `code`, which is stable.",
    required=["type", "title", "status", "detail", "code"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING, examples=["validation_failed"]),
        "instance": Schema(type=OpenAPIType.STRING),
        "request_id": Schema(type=OpenAPIType.STRING),
        "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT)),
    },
)
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def document_problems(app: Litestar) -> None:
    """Point every documented 4xx response at the ``Problem`` schema as problem+json.

    5xx answers are left as their handlers declare them (``/health/ready``'s 503 is its report)."""
    openapi = app.openapi_schema
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))}
    _add_gateway_answers(app)
    for path_item in (openapi.paths or {}).values():
        for method in _METHODS:
            operation = getattr(path_item, method, None)
            for status, response in ((operation.responses or {}) if operation else {}).items():
                if status.isdigit() and 400 <= int(status) < 500 and isinstance(response, OpenAPIResponse):
                    response.content = dict(problem)


_GATEWAY_ANSWERS = {
    "401": "No valid token, or its session has ended (`authentication_required`, `invalid_token`, ...)",
    "403": "Signed in, but without the role or scope this needs (`insufficient_role`, ...)",
}
_RATE_LIMITED = "Too many requests (`rate_limited`); retry after `Retry-After` seconds"


def _add_gateway_answers(app: Litestar) -> None:
    """Every protected operation can answer 401 and 403; every operation can answer 429."""
    openapi = app.openapi_schema
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in (openapi.paths or {}):
            continue
        path_item = openapi.paths[route.path_format]  # type: ignore[index]
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                if operation is None:
                    continue
                responses = operation.responses if operation.responses is not None else {}
                operation.responses = responses
                if not handler.opt.get("public"):
                    for status, description in _GATEWAY_ANSWERS.items():
                        responses.setdefault(status, OpenAPIResponse(description=description))
                responses.setdefault("429", OpenAPIResponse(description=_RATE_LIMITED))
