"""One error hierarchy, mapped in one place to RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import asyncpg
import redis.exceptions
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException

log = structlog.get_logger("app.errors")
PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """Base of every error the app answers with on purpose. ``code`` is stable: clients switch on it."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(AppError):
    status, code, title = 400, "bad_request", "Bad request"


class ValidationFailed(AppError):
    status, code, title = 422, "validation_failed", "The request is not valid"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Gone(AppError):
    status, code, title = 410, "gone", "No longer here"


class PreconditionFailed(AppError):
    status, code, title = 412, "precondition_failed", "The resource has changed"


class PreconditionRequired(AppError):
    status, code, title = 428, "precondition_required", "If-Match is required"


class RateLimited(AppError):
    status, code, title = 429, "rate_limited", "Too many requests"


class ServiceUnavailable(AppError):
    status, code, title = 503, "service_unavailable", "Temporarily unavailable"


_REFUSALS: dict[int, type[AppError]] = {403: Forbidden, 404: NotFound, 409: Conflict, 410: Gone,
                                        503: ServiceUnavailable}


def refusal(status: int, code: str, message: str, extra: dict[str, Any] | None = None,
            retry_after_s: int | None = None) -> AppError:
    """A domain's refusal of a request as the API's error: 403, 404, 409, 410 or 503 as given, otherwise 422,
    with its stable ``code``, ``extra`` members of the problem body and, when given, ``Retry-After``."""
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return _REFUSALS.get(status, ValidationFailed)(message, code=code, extra=extra, headers=headers)


@contextlib.contextmanager
def refusals(*kinds: type[Exception]) -> Iterator[None]:
    """Inside, a refusal of a domain's rules (an exception of ``kinds`` carrying ``status``, ``code``, ``extra``
    and, for a "retry later", ``retry_after_s``) becomes the API's error (see :func:`refusal`)."""
    try:
        yield
    except kinds as exc:
        raise refusal(getattr(exc, "status", 422), getattr(exc, "code", "validation_failed"), str(exc),
                      getattr(exc, "extra", None), getattr(exc, "retry_after_s", None)) from None


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
}


def problem_document(status: int, code: str, title: str, detail: str, instance: str | None,
                     request_id: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The RFC 9457 body every error answer carries (HTTP answers and refused WebSocket handshakes)."""
    body: dict[str, Any] = {
        "type": f"https://errors.gresort.example/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    if request_id:
        body["request_id"] = request_id
    body.update(extra or {})
    return body


def problem_body(request: Request[Any, Any, Any], status: int, code: str, title: str, detail: str,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The RFC 9457 body of an answer to ``request``."""
    return problem_document(status, code, title, detail, request.url.path,
                            request.scope.get("state", {}).get("request_id"), extra)


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body = problem_body(request, status, code, title, detail, extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    if exc.status >= 500:
        log.warning("app_error", code=exc.code, detail=exc.detail)
    return problem(request, exc.status, exc.code, exc.title, exc.detail, exc.extra, exc.headers)


def validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    fields = [
        {"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
        for e in errors
        if isinstance(e, dict)
    ]
    detail = exc.detail or "The request is not valid"
    return problem(request, 422, "validation_failed", "The request is not valid", detail, {"errors": fields})


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        return unexpected_error_handler(request, exc)
    code = _HTTP_CODES.get(status, "http_error")
    # A body that is not valid JSON: litestar wraps the decode error in a 400 ClientException.
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        code = "malformed_body"
    return problem(request, status, code, code.replace("_", " ").capitalize(), exc.detail, None, exc.headers)


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """PostgreSQL went away mid-request (a restart, a terminated connection): the transaction did not
    commit, nothing was written; the client may retry."""
    log.warning("database_unavailable", error=repr(exc), path=request.url.path)
    return problem(request, 503, "database_unavailable", "Temporarily unavailable",
                   "the database connection was lost; nothing was written, retry shortly", None,
                   {"Retry-After": "1"})


def store_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Redis (sessions, rate limits, locks) went away mid-request (a restart): like the database, a
    dependency without which the api serves nothing; the client may retry (with the same Idempotency-Key)."""
    log.warning("store_unavailable", error=repr(exc), path=request.url.path)
    return problem(request, 503, "store_unavailable", "Temporarily unavailable",
                   "a store the request needs was unreachable; retry shortly", None, {"Retry-After": "1"})


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error("unhandled_exception", exc_info=exc, path=request.url.path)
    return problem(request, 500, "internal_error", "Internal server error", "An unexpected error occurred.")


EXCEPTION_HANDLERS = {
    AppError: app_error_handler,
    asyncpg.PostgresConnectionError: database_unavailable,
    asyncpg.InterfaceError: database_unavailable,
    asyncpg.exceptions.AdminShutdownError: database_unavailable,
    asyncpg.exceptions.CannotConnectNowError: database_unavailable,
    asyncpg.exceptions.TooManyConnectionsError: database_unavailable,
    asyncpg.exceptions.InternalClientError: database_unavailable,  # a connection broken mid-operation
    redis.exceptions.ConnectionError: store_unavailable,
    redis.exceptions.TimeoutError: store_unavailable,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
