"""Which failures of the stores are worth waiting out (the store is down) rather than skipping."""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaConnectionError
from elastic_transport import ConnectionError as ESConnectionError
from elastic_transport import ConnectionTimeout as ESConnectionTimeout
from elasticsearch import ApiError
from pymongo.errors import ConnectionFailure, OperationFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

_TRANSIENT = (
    OSError, TimeoutError, ESConnectionError, ESConnectionTimeout, ConnectionFailure,
    RedisConnectionError, RedisTimeoutError, KafkaConnectionError,
    asyncpg.InterfaceError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError,
)


def is_transient(exc: BaseException) -> bool:
    """True for a lost connection, a timeout, a 429/5xx answer or a retryable Mongo transaction error."""
    if isinstance(exc, _TRANSIENT):
        return True
    if isinstance(exc, ApiError):
        return exc.meta.status in {429, 502, 503, 504}
    if isinstance(exc, OperationFailure):
        return exc.has_error_label("TransientTransactionError")
    return False
