"""How the catalogue answers when a store fails under it: problem+json with a retryable code, not a 500."""

from __future__ import annotations

from typing import Any

from asyncpg.exceptions import (
    CharacterNotInRepertoireError,
    DeadlockDetectedError,
    SerializationError,
    UntranslatableCharacterError,
)
from litestar import Request, Response
from pymongo.errors import PyMongoError

from app.errors import Conflict, ServiceUnavailable, ValidationFailed, app_error_handler


def details_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    error = ServiceUnavailable(
        "product details (MongoDB) are unavailable; retry shortly",
        code="details_unavailable",
        headers={"Retry-After": "5"},
    )
    return app_error_handler(request, error)


def concurrent_update(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    error = Conflict("a concurrent change to the same rows won; re-read and retry", code="concurrent_update")
    return app_error_handler(request, error)


def unstorable_text(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A string PostgreSQL cannot hold (a NUL character) that reached a query, e.g. through a path id.
    The statement failed, so its transaction wrote nothing."""
    error = ValidationFailed(
        "the request contains a character that cannot be stored (NUL)", code="invalid_text"
    )
    return app_error_handler(request, error)


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    PyMongoError: details_unavailable,
    CharacterNotInRepertoireError: unstorable_text,
    UntranslatableCharacterError: unstorable_text,
    DeadlockDetectedError: concurrent_update,
    SerializationError: concurrent_update,
}
