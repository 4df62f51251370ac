"""One unit of work per use case: one PostgreSQL transaction that holds everything the use case writes (its
rows, its outbox events, its idempotency answer) and commits once.

    async with UnitOfWork(db) as uow:
        hold = await repo.insert_hold(uow.conn, ...)       # rows
        await repo.record_hold(uow.conn, hold, ...)        # its outbox events, its audit row
        await within(uow.conn, hold)                       # its idempotency answer
        uow.after_commit(lambda: locks.set_lease(...))     # what lives outside PostgreSQL, once committed

The block commits when it ends normally (or earlier, once, with ``await uow.commit()``: a use case that must
commit while it still holds a lock elsewhere); an exception before the commit rolls everything back and runs
no ``after_commit`` effect. The connection goes back to its pool in every case. Repositories and adapters
write on ``uow.conn`` and never commit on their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import asyncpg

AfterCommit = Callable[[], Awaitable[Any]]


class UnitOfWorkError(RuntimeError):
    """The unit of work was used out of order (no transaction open, or a second commit)."""


class UnitOfWork:
    def __init__(self, db: asyncpg.Pool, acquire: Callable[[], Awaitable[asyncpg.Connection]] | None = None) -> None:
        """``acquire`` replaces ``db.acquire()`` when the caller queues for its connection; the connection
        goes back to ``db`` either way."""
        self.db, self._acquire = db, acquire or db.acquire
        self._conn: asyncpg.Connection | None = None
        self._tx: Any = None
        self._after: list[AfterCommit] = []
        self.committed = False

    @property
    def conn(self) -> asyncpg.Connection:
        if self._conn is None or self._tx is None:
            raise UnitOfWorkError("the unit of work has no open transaction")
        return self._conn

    def after_commit(self, effect: AfterCommit) -> None:
        """Run ``effect`` once the transaction committed (in order); never if it rolls back."""
        self._after.append(effect)

    async def commit(self) -> None:
        if self.committed or self._tx is None:
            raise UnitOfWorkError("a unit of work commits once, inside its block")
        await self._tx.commit()
        self.committed = True

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._acquire()
        try:
            self._tx = self._conn.transaction()
            await self._tx.start()
        except BaseException:
            await self._release()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if kind is None and not self.committed:
                await self.commit()
            elif not self.committed:
                with contextlib.suppress(Exception):  # the exception in flight is the one to see (a failed
                    await self._tx.rollback()          # COMMIT, a dropped connection: nothing to roll back)
        finally:
            self._tx = None
            await self._release()
        for effect in self._after if self.committed else ():
            await effect()

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self.db.release(conn)
