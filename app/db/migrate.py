"""Versioned SQL migrations: ``NNNN_name.sql`` files applied once each, in order, under an advisory lock.

Written by hand rather than with alembic: alembic needs SQLAlchemy, which the project does not use,
and plain SQL files applied in a transaction each are all PostgreSQL needs here.

``schema_migrations`` records the SHA-256 of each file as applied. A migration edited after it was applied
(the database no longer matches what the files say) stops the migrator with :class:`MigrationChanged`
before anything runs: write a new migration instead. Rows from before checksums were kept get the file's
current checksum on the first run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

log = structlog.get_logger("app.migrate")
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_250_001  # pg_advisory_lock key: one migrator at a time across processes


class MigrationChanged(RuntimeError):
    """An applied migration's file differs from what was applied."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def file_name(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name not of the form NNNN_name.sql: {path.name}")
        found.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two migrations share a version number")
    return found


async def ensure_database(dsn: str) -> None:
    """Create the target database if the server lacks it (a fresh local server has only ``postgres``)."""
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        base, _, name = dsn.rpartition("/")
        name = name.split("?")[0]
        admin = await asyncpg.connect(f"{base}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass
        finally:
            await admin.close()
    else:
        await conn.close()


async def _bookkeeping(conn: asyncpg.Connection) -> dict[int, str | None]:
    """The table of applied migrations (created, or given its checksum column); version -> checksum."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    await conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
    return {r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")}


async def _verify_applied(conn: asyncpg.Connection, done: dict[int, str | None],
                          migrations: list[Migration]) -> None:
    """Refuse when an applied migration's file changed; record the checksum of rows that have none."""
    changed = [m.file_name for m in migrations if m.version in done and done[m.version] not in (None, m.checksum)]
    if changed:
        raise MigrationChanged(f"applied migrations were edited since: {', '.join(changed)}; restore them and "
                               "put the change in a new migration")
    for m in migrations:
        if m.version in done and done[m.version] is None:
            await conn.execute("UPDATE schema_migrations SET checksum = $2 WHERE version = $1", m.version, m.checksum)


async def migrate(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply every pending migration; return the versions applied. Raises :class:`MigrationChanged`."""
    await ensure_database(dsn)
    conn = await asyncpg.connect(dsn)
    applied: list[int] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        done = await _bookkeeping(conn)
        migrations = load_migrations(directory)
        await _verify_applied(conn, done, migrations)
        for migration in migrations:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("migration_applied", version=migration.version, name=migration.name)
            applied.append(migration.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
        await conn.close()
    return applied
