"""The unit of work's own rules, without a server: one commit, a rollback on failure, effects outside the
database only after the commit, the connection always given back. (That a failed use case leaves no row,
event or idempotency answer in PostgreSQL: tests/integration/holds/test_unit_of_work.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from app.unit_of_work import UnitOfWork, UnitOfWorkError


class _Tx:
    def __init__(self, log: list[str], fail_commit: bool = False) -> None:
        self.log, self.fail_commit = log, fail_commit

    async def start(self) -> None:
        self.log.append("begin")

    async def commit(self) -> None:
        if self.fail_commit:
            raise ConnectionError("commit failed")
        self.log.append("commit")

    async def rollback(self) -> None:
        self.log.append("rollback")


class _Conn:
    def __init__(self, log: list[str], fail_commit: bool) -> None:
        self.log, self.fail_commit = log, fail_commit

    def transaction(self) -> _Tx:
        return _Tx(self.log, self.fail_commit)


class _Pool:
    """What a unit of work asks of asyncpg's pool: a connection, and to take it back."""

    def __init__(self, fail_commit: bool = False) -> None:
        self.log: list[str] = []
        self.fail_commit = fail_commit

    async def acquire(self) -> _Conn:
        self.log.append("acquire")
        return _Conn(self.log, self.fail_commit)

    async def release(self, conn: Any) -> None:
        self.log.append("release")


class Boom(Exception):
    pass


async def test_a_block_that_ends_normally_commits_once_then_runs_its_effects() -> None:
    pool = _Pool()
    async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
        assert uow.conn is not None
        uow.after_commit(lambda: _note(pool, "effect"))
    assert pool.log == ["acquire", "begin", "commit", "release", "effect"]


async def test_a_failure_rolls_back_and_runs_no_effect() -> None:
    pool = _Pool()
    with pytest.raises(Boom):
        async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
            uow.after_commit(lambda: _note(pool, "effect"))
            raise Boom
    assert pool.log == ["acquire", "begin", "rollback", "release"]


async def test_an_early_commit_is_the_only_one() -> None:
    pool = _Pool()
    async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
        await uow.commit()
        pool.log.append("after the commit, still in the block")
    assert pool.log == ["acquire", "begin", "commit", "after the commit, still in the block", "release"]


async def test_a_second_commit_is_refused() -> None:
    pool = _Pool()
    with pytest.raises(UnitOfWorkError):
        async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
            await uow.commit()
            await uow.commit()


async def test_a_failure_after_an_early_commit_keeps_the_commit_and_its_effects() -> None:
    """What committed stays committed: what mirrors it outside the database follows it."""
    pool = _Pool()
    with pytest.raises(Boom):
        async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
            uow.after_commit(lambda: _note(pool, "effect"))
            await uow.commit()
            raise Boom
    assert pool.log == ["acquire", "begin", "commit", "release", "effect"]


async def test_a_failed_commit_gives_the_connection_back_and_runs_no_effect() -> None:
    pool = _Pool(fail_commit=True)
    with pytest.raises(ConnectionError):
        async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
            uow.after_commit(lambda: _note(pool, "effect"))
    assert pool.log == ["acquire", "begin", "release"]


async def test_the_connection_is_not_usable_after_the_block() -> None:
    pool = _Pool()
    async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
        pass
    with pytest.raises(UnitOfWorkError):
        uow.conn  # noqa: B018 - the property refuses


async def test_a_queued_acquire_replaces_the_pools() -> None:
    pool = _Pool()

    async def queued() -> _Conn:
        pool.log.append("queued")
        return _Conn(pool.log, False)

    async with UnitOfWork(pool, acquire=queued):  # type: ignore[arg-type]
        pass
    assert pool.log == ["queued", "begin", "commit", "release"]


async def _note(pool: _Pool, what: str) -> None:
    pool.log.append(what)
