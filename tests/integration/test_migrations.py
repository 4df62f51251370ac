"""Migrations record each file's checksum and refuse to run when an applied one was edited since."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from app.db.migrate import MIGRATIONS_DIR, MigrationChanged, load_migrations, migrate
from app.settings import Settings


@pytest.fixture
async def scratch_db(settings: Settings, stack: object) -> AsyncIterator[str]:
    """A database of this test's own (created by the migrator, dropped after)."""
    base = settings.database_url.rsplit("/", 1)[0]
    name = f"{settings.database_url.rsplit('/', 1)[1]}_mig_{uuid.uuid4().hex[:8]}"
    yield f"{base}/{name}"
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, sql in files.items():
        (directory / name).write_text(sql)


async def test_an_edited_applied_migration_stops_the_migrator(scratch_db: str, tmp_path: Path) -> None:
    _write(tmp_path, {"0001_first.sql": "CREATE TABLE a (id int);", "0002_second.sql": "CREATE TABLE b (id int);"})
    assert await migrate(scratch_db, tmp_path) == [1, 2]
    assert await migrate(scratch_db, tmp_path) == []

    _write(tmp_path, {"0001_first.sql": "CREATE TABLE a (id bigint);", "0003_third.sql": "CREATE TABLE c (id int);"})
    with pytest.raises(MigrationChanged, match="0001_first.sql"):
        await migrate(scratch_db, tmp_path)
    conn = await asyncpg.connect(scratch_db)
    try:  # nothing ran: not even the new migration
        assert await conn.fetchval("SELECT to_regclass('c')") is None
    finally:
        await conn.close()

    _write(tmp_path, {"0001_first.sql": "CREATE TABLE a (id int);"})
    assert await migrate(scratch_db, tmp_path) == [3]


async def test_rows_from_before_checksums_are_adopted(scratch_db: str, tmp_path: Path) -> None:
    _write(tmp_path, {"0001_first.sql": "CREATE TABLE a (id int);"})
    await migrate(scratch_db, tmp_path)
    conn = await asyncpg.connect(scratch_db)
    try:
        await conn.execute("ALTER TABLE schema_migrations DROP COLUMN checksum")  # an older migrator's table
        assert await migrate(scratch_db, tmp_path) == []
        recorded = await conn.fetchval("SELECT checksum FROM schema_migrations WHERE version = 1")
    finally:
        await conn.close()
    assert recorded == load_migrations(tmp_path)[0].checksum
    _write(tmp_path, {"0001_first.sql": "CREATE TABLE a (id text);"})
    with pytest.raises(MigrationChanged):
        await migrate(scratch_db, tmp_path)


async def test_the_project_migrations_match_the_test_database(settings: Settings, stack: object) -> None:
    """The suite's database was migrated from these very files (the session fixture): no drift."""
    assert await migrate(settings.database_url, MIGRATIONS_DIR) == []
