"""The parts of the contract beyond statuses (see :mod:`app.problem_docs` for the conventions):
security requirements, links between operations, and ``OPTIONS``/``Allow`` agreeing with the routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

import msgspec
from litestar import Litestar
from litestar.openapi.spec import Link, OpenAPIResponse, Operation, Reference, SecurityScheme
from litestar.routes import HTTPRoute

from app.contract.names import PublicNames, document_schemas, named_classes
from app.problem_docs import gated, operations

SECURITY_SCHEMES = {
    "bearer": SecurityScheme(
        type="http", scheme="bearer", bearer_format="JWT",
        description="An access token of this api (users) or a client-credentials token of the IdP (partners).",
    ),
    "cookie": SecurityScheme(
        type="apiKey", name="resort_access", security_scheme_in="cookie",
        description="The browser session cookie; unsafe methods also need `X-CSRF-Token` (double submit).",
    ),
}


def document_security(app: Litestar) -> None:
    """A token is required behind the gateway, optional on public routes, absent where it does not look."""
    openapi = app.openapi_schema
    assert openapi.components is not None
    openapi.components.security_schemes = dict(SECURITY_SCHEMES)
    for path, handler, _, operation in operations(app):
        if not gated(path):
            operation.security = []
            continue
        signed_in: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]
        public = handler.opt.get("public") and not handler.resolve_guards()
        operation.security = [{}, *signed_in] if public else signed_in


def _parameters(operation: Operation) -> set[tuple[str, str]]:
    return {(getattr(p.param_in, "value", p.param_in), p.name) for p in operation.parameters or []
            if not isinstance(p, Reference)}


def _expression(source: str) -> str:
    """``/id`` -> the success body's JSON pointer; ``ETag`` -> that response header."""
    return f"$response.body#{source}" if source.startswith("/") else f"$response.header.{source}"


@dataclass
class BodyLink(Link):
    """A link that also gives the target's whole request body (``x-schemathesis``: do not merge it into a
    generated one, which would keep e.g. the generated items of a list after the linked first one)."""

    extension: dict[str, Any] | None = field(default=None, metadata={"alias": "x-schemathesis"})


def _body(template: Any) -> Any:
    """A ``feeds`` template as a link's ``requestBody``: ``"/id"`` is the success body's JSON pointer, a
    ``$``-expression stays as it is, anything else is a literal."""
    if isinstance(template, dict):
        return {key: _body(value) for key, value in template.items()}
    if isinstance(template, list):
        return [_body(value) for value in template]
    if isinstance(template, str) and (template.startswith("/") or template.startswith("$")):
        return template if template.startswith("$") else _expression(template)
    return template


def _fed_links(app: Litestar, handler: Any) -> dict[str, Link | Reference]:
    """``opt={"feeds": {"POST /bookings": {"hold_ids": ["/id"], ...}}}``: a link giving that operation's body."""
    feeds: dict[str, Any] = handler.opt.get("feeds") or {}
    by_label = {f"{method} {path}": operation for path, _, method, operation in operations(app)}
    links: dict[str, Link | Reference] = {}
    for label, template in feeds.items():
        target = by_label[label]  # a KeyError names a feed to an operation that does not exist
        links[f"{target.operation_id}Body"] = BodyLink(
            operation_id=target.operation_id, request_body=_body(template), extension={"merge_body": False},
            description=f"the body of `{label}`, from this answer")
    return links


def document_links(app: Litestar) -> None:
    """``opt={"links": {"product_id": "/id", "header.If-Match": "ETag"}}``: a link from every success
    response of the operation to every operation taking one of those path parameters, carrying each
    value the target takes; ``opt={"feeds": ...}`` (see ``_fed_links``): links giving a target's body."""
    targets = [(operation, _parameters(operation)) for *_, operation in operations(app)]
    for _, handler, _, source in operations(app):
        wanted: dict[str, str] = handler.opt.get("links") or {}
        links: dict[str, Link | Reference] = _fed_links(app, handler)
        for target, params in targets if wanted else ():
            values: dict[str, Any] = {}
            for name, origin in wanted.items():
                where, _, param = name.rpartition(".")
                if (where or "path", param) in params:
                    values[f"{where or 'path'}.{param}"] = _expression(origin)
            if target is not source and any(k.startswith("path.") for k in values):
                links[str(target.operation_id)] = Link(operation_id=target.operation_id, parameters=values)
        for status, response in (source.responses or {}).items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse) and links:
                response.links = dict(links)


def agree_allow_headers(app: Litestar) -> None:
    """Litestar's automatic ``OPTIONS`` handler answers the methods of the route it was made for; when
    a second handler joins that path the route is rebuilt but keeps the old handler, so ``Allow``
    forgot e.g. ``PATCH``. Point each one at the route it now serves."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.handler_name != "options_handler":
                continue
            for cell in handler.fn.__closure__ or ():
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route


def _structs(annotation: Any, found: set[Any]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        found.add(annotation)
    for arg in get_args(annotation):
        _structs(arg, found)


def schema_classes(app: Litestar) -> list[type]:
    """Every class the document names a schema after: the Structs of the operations' bodies and answers,
    those Litestar met (``PublicNames``), and everything they reach."""
    found: set[Any] = set()
    for _, handler, _, _ in operations(app):
        signature = handler.parsed_fn_signature
        _structs(signature.return_type.annotation, found)
        if "data" in signature.parameters:
            _structs(signature.parameters["data"].annotation, found)
        for spec in (handler.responses or {}).values():
            _structs(spec.data_container, found)
        for model in (handler.opt.get("body") or {}).values():
            _structs(model, found)
    found |= set(public_names(app).names)
    return named_classes(found)


def public_names(app: Litestar) -> PublicNames:
    """The app's ``PublicNames`` plugin (a fresh one for an app without it: names are then class names)."""
    plugin = next((p for p in app.plugins.openapi if isinstance(p, PublicNames)), None)
    if plugin is None:
        plugin = app.state.setdefault("public_names", PublicNames())
    return plugin


def document_structs(app: Litestar) -> None:
    """Bodies are msgspec Structs: describe them with msgspec's own JSON Schema, which knows what the
    decoder enforces (patterns of list items, ``additionalProperties: false`` for
    ``forbid_unknown_fields``, renamed fields) where Litestar's generator guesses; each under its public
    name (app.contract.names)."""
    schemas = app.openapi_schema.components.schemas  # type: ignore[union-attr]
    assert schemas is not None
    schemas.update(document_schemas(schema_classes(app), public_names(app)))
