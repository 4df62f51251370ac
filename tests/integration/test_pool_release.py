"""A connection goes back to the pool without asyncpg's reset query (``app.resources.keep_session``): one
round trip and one PostgreSQL transaction less per release. Shown by session state that survives a release,
which the reset query (``RESET ALL``) would have cleared; an open transaction is still rolled back."""

from __future__ import annotations

import msgspec

from app.resources import open_resources
from app.settings import Settings


async def test_a_released_connection_keeps_its_session_and_loses_its_transaction(settings: Settings) -> None:
    one = msgspec.structs.replace(settings, database_pool_min=1, database_pool_max=1)
    async with open_resources(one) as resources:
        db = resources.db
        await db.execute("SET application_name = 'kept-across-release'")  # the pool's only connection
        assert await db.fetchval("SHOW application_name") == "kept-across-release"
        async with db.acquire() as conn:
            left_open = conn.transaction()
            await left_open.start()
            await conn.execute("CREATE TEMP TABLE pool_release_probe (n int)")
        async with db.acquire() as conn:
            assert await conn.fetchval("SELECT to_regclass('pool_release_probe')") is None
            assert not conn.is_in_transaction()
