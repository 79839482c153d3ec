"""Database engine, declarative base and column types shared by every domain."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from impserver.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and hands back timezone-aware datetimes, also on SQLite (which has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def postgres_only(index: Index) -> Index:
    """An index that exists on PostgreSQL only (one SQLite has no kind for, such as a trigram
    index); the migrations' comparison with the models skips it elsewhere."""
    index.info["postgresql_only"] = True
    return index.ddl_if(dialect="postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the workspace read while a write is in progress; the timeout rides out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# A new server connection that takes longer than this is treated as unreachable (asyncpg would
# otherwise wait a minute, holding the request that needed it).
CONNECT_TIMEOUT_SECONDS = 5


def _connect_reporting_unreachable(
    dialect: Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        # asyncpg lets socket errors (refused, reset, timed out) through as they are; as the
        # driver's own OperationalError they become a 503, not a 500, and the pool treats them
        # like any other lost connection.
        raise dialect.loaded_dbapi.OperationalError(
            f"cannot connect to the database: {exc}", exc
        ) from exc


# A pooled connection used this recently is taken to be alive without asking. Asking costs three
# round trips (asyncpg's ping runs in a transaction of its own) on every checkout, which on a
# busy instance is every request, twice. A connection the database dropped in the meantime fails
# its first statement instead; that error marks the whole pool stale, so one lost connection is
# noticed once, not once per pooled connection.
PING_AFTER_IDLE_SECONDS = 2.0
_LAST_USED = "imp_last_used"


def _note_last_used(_dbapi_connection: Any, record: Any) -> None:
    record.info[_LAST_USED] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    last_used = record.info.get(_LAST_USED)
    if last_used is not None and time.monotonic() - last_used < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        # The pool replaces the connection and tries again with a fresh one.
        raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


def build_engine(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )
    event.listen(engine.sync_engine, "do_connect", _connect_reporting_unreachable)
    # A connection the database dropped (restart, network cut) is replaced on checkout.
    pool = engine.sync_engine.pool
    event.listen(pool, "connect", _note_last_used)
    event.listen(pool, "checkin", _note_last_used)
    event.listen(pool, "checkout", _ping_if_idle)
    return engine


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached, rather than that a query failed."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            exc, OperationalError | InterfaceError
        )
    return isinstance(exc, ConnectionError | TimeoutError)


class OutageLog:
    """Logs a background worker's lost database once, not on every retry, and its return."""

    def __init__(self, logger: logging.Logger, worker: str) -> None:
        self.logger = logger
        self.worker = worker
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not database_unreachable(exc):
            self.logger.exception("%s failed; retrying", self.worker)
        elif not self.down:
            self.down = True
            self.logger.warning("%s waiting for the database: %s", self.worker, exc)

    def succeeded(self) -> None:
        if self.down:
            self.down = False
            self.logger.warning("%s: the database is back", self.worker)


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """A statement with ``:name`` parameters (as SQLAlchemy's ``text``) for the driver: the
    same SQL with $1… in their place, and the names in the order of their numbers."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED_PARAMETER.sub(number, sql), tuple(names)
