"""The OpenAPI document is the contract: say there exactly what every operation can answer.

Run once at start-up (``document_api``). Partners generate clients from ``/docs/openapi.json`` and CI
checks it with schemathesis (``tests/integration/test_contract.py``, every check, every role), so a
status, parameter or body the document does not describe is a failing build.

Conventions for a new endpoint (follow them and the document is right without touching this module):

1. **Statuses are inferred**; do not list them by hand. Behind the gateway (every path but ``/docs``,
   ``/swagger``, ``/metrics``, ``/health``): 401 (any bad token, even on a public route), 429 and 503
   (the IdP's keys for a partner token); 403 with guards or for an unsafe method (cookie CSRF); 404
   with a path parameter; 422 with any parameter or body; 400 ``malformed_body`` with a body; 412 with
   an ``If-Match`` header (a stale ETag is a rule, see 3); 304 with an ``If-None-Match`` header.
   Declaring 428 marks ``If-Match`` required. Every 4xx and declared 5xx is
   ``application/problem+json`` with the shared ``Problem`` schema and its ``code`` values.
2. **Other problems and their codes** go in the handler's (or its controller's / router's) ``opt``:
   ``opt={"problems": {409: ("hold_conflict",), 503: ("store_unavailable",)}}``. Codes listed for an
   inferred status are added to its description (``404: ("hold_not_found",)``).
3. **Rules JSON Schema cannot express** (one field against another, a value that must exist in the
   database): ``opt={"rules": {422: "end must be after start (`empty_date_range`)"}}``. They are
   written into the operation's description, their status is documented, and the contract test allows
   that status for otherwise schema-valid requests of that operation (and nowhere else).
4. **Constraints on parameters** go in the signature: ``Annotated[str, Parameter(pattern=..., max_length=..)]``,
   ``Literal[...]`` or an ``Enum`` for a closed set, ``ge``/``le`` for ranges (Litestar enforces them:
   422 ``validation_failed``). Where the service validates itself to answer its own stable codes,
   document the same limits with ``Parameter(schema_extra={"enum": [...], "maximum": ...})``. Bodies are
   msgspec ``Struct``s with ``Meta`` constraints, documented by msgspec's own JSON Schema and decoded
   strictly (app.strict_bodies); a PATCH body must change something (``minProperties: 1``).
5. **Success bodies are typed**: return a msgspec ``Struct``, or declare the shape of a dict / bytes
   answer with ``responses=returns(TheStruct, 201, "...")``; a redirect declares its 3xx with
   ``ResponseSpec(None, description=...)``. Never leave ``dict[str, Any]`` or bytes undocumented.
6. **Links** for stateful testing and generated clients: ``opt={"links": {"hold_id": "/id"}}`` says the
   success body's JSON pointer ``/id`` is the ``hold_id`` of every operation with that path parameter;
   ``{"header.If-Match": "ETag"}`` feeds the response's ``ETag`` to the next write's ``If-Match``.
   A body: ``opt={"feeds": {"POST /bookings": {"hold_ids": ["/id"], "payment": {...}}}}`` links to that
   operation with its whole ``requestBody`` (``"/..."``: a JSON pointer of this answer; ``"$..."``: any
   runtime expression; anything else: a literal), so a hold's id reaches the booking's body.
7. A ``DELETE`` ends what it names: a read of it afterwards answers 404, or 410 with a code saying why
   (``GET /holds/{id}`` of a released hold: ``410 hold_released``), never its old state (``use_after_free``).
8. Public routes: ``opt={"public": True}`` (the bearer token is then optional in ``security``).
9. A handler that reads its body itself (no ``data`` parameter) declares it:
   ``opt={"body": {"application/x-www-form-urlencoded": TheStruct}, "body_required": False}``; a header
   it reads itself likewise: ``opt={"headers": {"Idempotency-Key": {"required": True, "pattern": ...}}}``
   (JSON Schema keywords plus ``required`` and ``description``; see app.idempotency.keys.OPENAPI_HEADER).
10. Schema names are public (generated clients' class names): a Struct named like another one gets
   ``__contract_name__ = "HoldNight"``; ``python -m app.contract`` rewrites the checked list of names
   (see app.contract.names). A cacheable read takes ``opt=CACHED_READ`` (app.http_semantics.caching).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from app.contract.names import public_name
from app.errors import PROBLEM_JSON

PROBLEM_SCHEMA = Schema(
    title="Problem",
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
# Paths the gateway does not see (app.auth.gateway.Gateway.exclude_path_pattern): no 401, 403 or 429.
UNGATED = re.compile(r"^/(docs|swagger|metrics|health)")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TITLES = {
    304: "Not modified: the `If-None-Match` ETag is current (no body)",
    400: "The body is not JSON",
    401: "No valid token, or its session has ended",
    403: "Signed in, but not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    410: "Gone: it ended on purpose and is no longer readable",
    412: "`If-Match` names a stale version; re-read and retry",
    422: "The request is not valid (`errors` names the fields)",
    428: "`If-Match` is required",
    429: "Too many requests; retry after `Retry-After` seconds",
    503: "Temporarily unavailable; retry after `Retry-After` seconds",
}


def returns(model: Any, status: int = 200, description: str = "OK") -> dict[int, ResponseSpec]:
    """``responses=returns(TheStruct)``: the success body of a handler that builds a dict or sends bytes."""
    return {status: ResponseSpec(data_container=model, description=description, generate_examples=False)}


def operations(app: Litestar) -> Iterator[tuple[str, HTTPRouteHandler, str, Operation]]:
    """Every documented operation: its path, handler, HTTP method and OpenAPI operation."""
    paths = app.openapi_schema.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                operation = getattr(paths[route.path_format], method.lower(), None)
                if operation is not None:
                    yield route.path_format, handler, method, operation


def layered_opt(handler: HTTPRouteHandler, key: str) -> dict[Any, Any]:
    """``opt[key]`` merged over the app, routers, controller and handler (a handler's entries win)."""
    merged: dict[Any, Any] = {}
    for layer in handler.ownership_layers:
        merged.update((getattr(layer, "opt", None) or {}).get(key) or {})
    return merged


def gated(path: str) -> bool:
    return not UNGATED.match(path)


def inferred_problems(path: str, handler: HTTPRouteHandler, method: str,
                      operation: Operation) -> dict[int, list[str]]:
    """The statuses (with their codes) the conventions say this operation can answer."""
    params = [p for p in operation.parameters or [] if not isinstance(p, Reference)]
    found: dict[int, list[str]] = {}
    if gated(path):
        public = bool(handler.opt.get("public"))
        found[401] = ([] if public and not handler.resolve_guards() else ["authentication_required"]) + [
            "invalid_token", "token_expired", "session_ended"]
        found[429] = ["rate_limited"]
        # a partner token's keys cannot be fetched from the IdP; Redis (sessions, limits) or PostgreSQL lost
        found[503] = ["service_unavailable", "store_unavailable", "database_unavailable"]
        forbidden = (["insufficient_role", "insufficient_scope"] if handler.resolve_guards() else []) + (
            ["csrf_failed"] if method in UNSAFE else [])
        if forbidden:
            found[403] = forbidden
    if any(p.param_in == "path" for p in params):
        found[404] = ["not_found"]
    if params or operation.request_body is not None:
        found[422] = ["validation_failed"]
    if operation.request_body is not None:
        found[400] = ["malformed_body"]
    names = {p.name.lower() for p in params if p.param_in == "header"}
    if "if-match" in names:
        found[412] = ["precondition_failed"]
    if "if-none-match" in names:
        found[304] = []
    return found


def _problem_response(status: int, codes: list[str], existing: OpenAPIResponse | None) -> OpenAPIResponse:
    if status < 400:
        return existing or OpenAPIResponse(description=TITLES.get(status, "Not modified"))
    listed = ", ".join(f"`{c}`" for c in codes)
    description = TITLES.get(status) or (existing.description if existing else "Error")
    schema: Schema | Reference = Reference(ref="#/components/schemas/Problem")
    if codes:
        description = f"{description}: {listed}"
        schema = Schema(all_of=[schema], properties={"code": Schema(type=OpenAPIType.STRING, examples=codes)})
    return OpenAPIResponse(description=description, content={PROBLEM_JSON: OpenAPIMediaType(schema=schema)},
                           headers=existing.headers if existing else None)


def document_statuses(path: str, handler: HTTPRouteHandler, method: str, operation: Operation) -> None:
    """Replace the generated error responses by the inferred and declared problems, nothing else."""
    problems = inferred_problems(path, handler, method, operation)
    for status, codes in layered_opt(handler, "problems").items():
        problems.setdefault(int(status), [])
        problems[int(status)] += [c for c in codes if c not in problems[int(status)]]
    rules = rules_of(handler, operation)
    for status in rules:
        problems.setdefault(int(status), [])
    if 428 in problems:  # the app requires If-Match although the signature takes it as optional
        for param in operation.parameters or []:
            if not isinstance(param, Reference) and param.name.lower() == "if-match":
                param.required = True
                if isinstance(param.schema, Schema):  # blank counts as missing
                    param.schema = Schema(type=OpenAPIType.STRING, pattern=r"\S", description=param.description)
    responses = operation.responses if operation.responses is not None else {}
    declared = {int(s) for s in handler.responses or {}}
    for status in [s for s in responses if s.isdigit() and int(s) >= 400 and int(s) not in declared]:
        del responses[status]  # Litestar's guesses (400 for any parameter) say less than the inference
    for status in (s for s in declared if s >= 400):  # a handler's own error answers: its words, problem+json
        problems.setdefault(status, [])
    for status, codes in sorted(problems.items()):
        existing = responses.get(str(status))
        existing = existing if isinstance(existing, OpenAPIResponse) else None
        if status in declared and existing is not None and (status >= 500 and existing.content and not codes):
            continue  # a handler's own 5xx body (``/health/ready``'s report)
        answer = _problem_response(status, codes, existing)
        if status in declared and existing is not None and status >= 400:
            answer.description = existing.description + (
                f" (also {', '.join(f'`{c}`' for c in codes)})" if codes else "")
        responses[str(status)] = answer
    operation.responses = responses
    if rules:
        lines = "\n".join(f"- {status}: {text}" for status, text in sorted(rules.items()))
        operation.description = f"{operation.description or ''}\n\nRules the schema cannot express:\n{lines}".strip()


STALE = "`If-Match` must name the current version (`precondition_failed`): send the ETag you read"


def rules_of(handler: HTTPRouteHandler, operation: Operation) -> dict[int, str]:
    """The rules the schema cannot express: the declared ones, and the staleness of an ``If-Match``."""
    rules = {int(status): text for status, text in layered_opt(handler, "rules").items()}
    if any(not isinstance(p, Reference) and p.name.lower() == "if-match" for p in operation.parameters or []):
        rules.setdefault(412, STALE)
    return rules


def refusals_of_valid_requests(app: Litestar) -> dict[tuple[str, str], set[int]]:
    """``(METHOD, path)`` -> the statuses a schema-valid request may still get, by the rules above."""
    found: dict[tuple[str, str], set[int]] = {}
    for path, handler, method, operation in operations(app):
        rules = rules_of(handler, operation)
        if rules:
            found[(method, path)] = set(rules)
    return found


def query_lists(operation: Operation) -> None:
    """A repeatable query parameter (``list[str]``) is one value or several: ``?kind=a`` or
    ``?kind=a&kind=b``. On the wire every value is a string, so say so (``type: [array, string]``)."""
    for param in operation.parameters or []:
        if isinstance(param, Reference) or param.param_in != "query" or not isinstance(param.schema, Schema):
            continue
        schema = param.schema
        arrays = [s for s in schema.one_of or [schema] if isinstance(s, Schema) and s.type == OpenAPIType.ARRAY]
        items = arrays[0].items if arrays else None
        if isinstance(items, Schema) and items.type == OpenAPIType.STRING:
            param.schema = Schema(type=[OpenAPIType.ARRAY, OpenAPIType.STRING], items=items,
                                  description=schema.description)


def declare_headers(handler: HTTPRouteHandler, operation: Operation) -> None:
    """Headers a handler reads itself: ``opt={"headers": {name: {"required": bool, **json_schema}}}``."""
    declared: dict[str, dict[str, Any]] = layered_opt(handler, "headers")
    taken = {p.name.lower() for p in operation.parameters or [] if not isinstance(p, Reference)}
    for name, spec in declared.items():
        if name.lower() in taken:
            continue
        schema = {k: v for k, v in spec.items() if k not in ("required", "description")}
        operation.parameters = [*(operation.parameters or []), OpenAPIParameter(
            name=name, param_in="header", required=bool(spec.get("required")),
            description=spec.get("description"), schema=Schema(type=OpenAPIType.STRING, **{
                _SCHEMA_FIELDS.get(k, k): v for k, v in schema.items()}))]


_SCHEMA_FIELDS = {"maxLength": "max_length", "minLength": "min_length"}


def declare_body(handler: HTTPRouteHandler, operation: Operation) -> None:
    """The body of a handler that reads it itself: ``opt={"body": {media type: Struct}}``."""
    declared: dict[str, type] = handler.opt.get("body") or {}
    if declared and operation.request_body is None:
        content = {media: OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{public_name(model)}"))
                   for media, model in declared.items()}
        operation.request_body = RequestBody(content=content, required=handler.opt.get("body_required", True))


def require_changes(app: Litestar, operation: Operation) -> None:
    """A PATCH body must change something (an empty one is 422 ``nothing_to_change``)."""
    body = operation.request_body
    content = getattr(body, "content", None) or {}
    for media in content.values():
        schema = media.schema
        if isinstance(schema, Reference):
            schema = (app.openapi_schema.components.schemas or {}).get(schema.ref.rsplit("/", 1)[-1])
        if isinstance(schema, Schema):
            schema.min_properties = 1
        elif isinstance(schema, dict):
            schema["minProperties"] = 1


def document_api(app: Litestar) -> None:
    """The start-up pass: statuses and problems, PATCH bodies, security, links; Allow headers."""
    from app.contract_docs import agree_allow_headers, document_links, document_security, document_structs
    from app.http_semantics.caching import document_caching

    openapi = app.openapi_schema
    openapi.components = openapi.components or Components()
    openapi.components.schemas = openapi.components.schemas or {}
    openapi.components.schemas["Problem"] = PROBLEM_SCHEMA
    document_structs(app)
    for path, handler, method, operation in operations(app):
        declare_body(handler, operation)
        declare_headers(handler, operation)
        document_statuses(path, handler, method, operation)
        document_caching(handler, operation)
        query_lists(operation)
        if method == "PATCH":
            require_changes(app, operation)
    document_security(app)
    document_links(app)
    agree_allow_headers(app)


document_problems = document_api  # the name main.py and older code know
