"""Alembic environment: runs migrations over the app's async engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import SchemaItem

from impserver.models import Base

config = context.config
target_metadata = Base.metadata


def _exists_on(dialect: str) -> Callable[..., bool]:
    """Indexes made for PostgreSQL only (core.db.postgres_only) are not expected elsewhere."""

    def include_object(
        obj: SchemaItem, _name: str | None, kind: str, _reflected: bool, _other: object
    ) -> bool:
        return not (kind == "index" and obj.info.get("postgresql_only") and dialect != "postgresql")

    return include_object


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_exists_on(connection.dialect.name),
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as async_connection:
        await async_connection.run_sync(run_with)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_online())
    else:
        # Called from code that already runs an event loop in this thread: use a fresh thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, run_online()).result()
