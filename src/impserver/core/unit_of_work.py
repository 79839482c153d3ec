"""One transaction, and the events it emits, published only once it has committed."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from impserver.core.db import OutageLog, UTCDateTime, database_unreachable
from impserver.core.integration_events import IntegrationEvents, IntegrationListener
from impserver.core.metrics import EVENTS_PUBLISHED
from impserver.realtime.bus import EventBus
from impserver.realtime.events import Audience, Event
from impserver.realtime.outbox import (
    Envelope,
    StoredEvent,
    render_frame,
    store_events,
    store_events_on_driver,
    store_events_on_sqlite,
)

log = logging.getLogger(__name__)
_Row = TypeVar("_Row")

# How often to ask, while the database is still out of reach, whether an in-doubt commit happened:
# soon enough that live sockets hear of it about when the database is back.
SETTLE_BACKOFF_MAX = 1.0


@dataclass
class UnitOfWork:
    session: AsyncSession
    _durable: list[tuple[Event, Audience]] = field(default_factory=list)
    _ephemeral: list[tuple[Event, Audience]] = field(default_factory=list)
    _controls: list[tuple[str, Audience]] = field(default_factory=list)
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    integrations: IntegrationEvents = field(default_factory=lambda: IntegrationEvents(None))

    def tell_integrations(
        self, name: str, resource_id: int, data: Callable[[], dict[str, Any]]
    ) -> None:
        """Tell integrations (webhooks) what happened, if any listens: kept with this
        transaction, see ``core.integration_events``."""
        self.integrations.tell(name, resource_id, data)

    def emit(self, event: Event, audience: Audience) -> None:
        """Queue an event for its audience: stored and sent only if the transaction commits."""
        if audience:
            self._durable.append((event, audience))

    def emit_ephemeral(self, event: Event, audience: Audience) -> None:
        """Queue an event that is not worth replaying later (typing, presence)."""
        if audience:
            self._ephemeral.append((event, audience))

    def control(self, instruction: str, audience: Audience) -> None:
        """Queue an instruction to the gateways, e.g. to cut a revoked employee's sockets."""
        if audience:
            self._controls.append((instruction, audience))

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(callback)

    def claim(self, query: Select[_Row]) -> Select[_Row]:
        """Lock the rows ``query`` picks so that other instances skip them (due timers, queued
        deliveries). SQLite has one writer at a time, so there the plain query is enough."""
        if self.session.get_bind().dialect.name == "postgresql":
            return query.with_for_update(skip_locked=True)
        return query


@dataclass
class DriverUnit:
    """A unit of work on PostgreSQL's driver connection (asyncpg), for the busiest writes.

    Same transaction, same stored events published after commit, same in-doubt handling as
    ``Database.transaction``, without the ORM session's machinery: on a send of three
    statements that machinery costs about twice what the statements do (measured on this
    project's machine: 1.1 ms of CPU in an AsyncSession, 0.35 ms on the driver). Statements
    are SQL with $1… parameters; ``numbered`` turns a ``:name`` statement into one."""

    connection: Any  # asyncpg.Connection
    _durable: list[tuple[Event, Audience]] = field(default_factory=list)
    _stored: list[Envelope] = field(default_factory=list)
    integrations: IntegrationEvents = field(default_factory=lambda: IntegrationEvents(None))

    def emit(self, event: Event, audience: Audience) -> None:
        if audience:
            self._durable.append((event, audience))

    @staticmethod
    def time(value: datetime) -> datetime:
        """A datetime as a statement's parameter (``SqliteUnit.time`` converts it)."""
        return value

    @staticmethod
    def named(row: Any, times: frozenset[str] = frozenset()) -> dict[str, Any]:
        """A row as a dict (``SqliteUnit.named`` reads its ``times`` too)."""
        return dict(row)

    def stored(self, envelopes: list[Envelope]) -> None:
        """Events a statement of this unit stored itself (``outbox.NEW_ROW_EVENTS_CTES``):
        published after commit with those ``emit`` queued, and before them."""
        self._stored.extend(envelopes)

    def tell_integrations(
        self, name: str, resource_id: int, data: Callable[[], dict[str, Any]]
    ) -> None:
        self.integrations.tell(name, resource_id, data)


class SqliteConnection:
    """The aiosqlite connection under a pooled SQLAlchemy one, with the few calls a
    ``SqliteUnit`` makes. Each statement is one hand-off to the database's thread; through
    SQLAlchemy it is several (a cursor, the statement, its rows, closing the cursor) and many
    times the CPU: measured on this project's machine, 240 µs a statement against 135 µs on
    aiosqlite, and 6 µs in SQLite itself. Statements are SQLite's SQL with ``?`` parameters, or
    PostgreSQL's ``$1``… where the SQL suits both."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        stored_time = UTCDateTime().dialect_impl(dialect)
        self._time = stored_time.bind_processor(dialect)
        self._read_time = stored_time.result_processor(dialect, None)

    def time(self, value: datetime) -> Any:
        """A datetime as SQLAlchemy stores it in SQLite (see ``UTCDateTime``)."""
        return self._time(value) if self._time is not None else value

    def read_time(self, value: Any) -> datetime | None:
        """A stored datetime as SQLAlchemy reads it (aware, in UTC)."""
        return self._read_time(value) if self._read_time is not None else value

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.raw.execute_fetchall(_for_sqlite(sql), args))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        await self.raw.execute_fetchall(_for_sqlite(sql), args)

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        await self.raw.executemany(_for_sqlite(sql), rows)


@functools.cache
def _for_sqlite(sql: str) -> str:
    """A statement written for the PostgreSQL driver ($1…) with SQLite's numbered parameters
    (?1…), so that SQL both understand is written once."""
    return re.sub(r"\$(\d+)", r"?\1", sql)


@dataclass
class SqliteUnit:
    """A unit of work on SQLite's driver connection (``SqliteConnection``), for the busiest
    writes: the same transaction and stored events, published after commit, as
    ``Database.transaction``, without the ORM session."""

    connection: SqliteConnection
    _durable: list[tuple[Event, Audience]] = field(default_factory=list)

    def emit(self, event: Event, audience: Audience) -> None:
        if audience:
            self._durable.append((event, audience))

    def time(self, value: datetime) -> Any:
        return self.connection.time(value)

    def named(self, row: Any, times: frozenset[str] = frozenset()) -> dict[str, Any]:
        """A row (rows are ``sqlite3.Row`` in a unit) as a dict, its ``times`` read as
        datetimes: SQLite hands them back as the text they are stored as."""
        read = self.connection.read_time
        return {
            key: read(value) if key in times else value
            for key, value in zip(row.keys(), row, strict=True)
        }


@dataclass
class _InDoubtCommit:
    """A transaction whose COMMIT was sent but whose answer never came: it may have happened."""

    # One of its stored events: they are all in the log if it committed, and none is if not.
    event_id: int
    # What would have been published after it (its events, its gateway instructions).
    envelopes: list[Envelope]
    after_commit: list[Callable[[], Awaitable[None]]]


def _commit_outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed COMMIT may still have happened: the connection was lost (or the commit
    abandoned) after it was sent, rather than the database refusing it."""
    return database_unreachable(exc) or isinstance(exc, asyncio.CancelledError)


class Database:
    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        # PostgreSQL reads run without BEGIN and ROLLBACK around them: under READ COMMITTED
        # each statement sees its own snapshot anyway, and those are two round trips of three
        # for a read of one statement (every request's session check). SQLite's single-writer
        # locking is left as it is.
        self._read_sessionmaker = (
            sessionmaker
            if engine.dialect.name == "sqlite"
            else async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )
        )
        self.bus = bus
        # Who keeps what actions tell integrations (the webhook outbox), plugged in by the app.
        self.integration_listener: IntegrationListener | None = None
        # SQLite allows one writer; serialising our own write transactions avoids "database is
        # locked" errors when a read-then-write transaction would otherwise race another writer.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._in_doubt: list[_InDoubtCommit] = []
        self._settling: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries only: actions write through ``transaction``."""
        async with self._read_sessionmaker() as session:
            yield session

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        lock = self._write_lock or contextlib.nullcontext()
        envelopes: list[Envelope] = []
        async with lock, self.sessionmaker() as session:
            uow = UnitOfWork(session, integrations=IntegrationEvents(self.integration_listener))
            committing = False
            try:
                async with session.begin():
                    yield uow
                    if uow.integrations.pending and self.integration_listener is not None:
                        await self.integration_listener.store(session, uow.integrations.pending)
                    envelopes.extend(await store_events(session, uow._durable))
                    committing = True
            except BaseException as exc:
                # The caller still fails (a 503 for a request), but if the commit did happen its
                # events must not wait for each socket's next reconnect. A transaction with
                # stored events can be told apart later by looking one of them up.
                if committing and _commit_outcome_unknown(exc):
                    if envelopes:
                        self._settle_later(
                            _InDoubtCommit(
                                event_id=envelopes[0].event_id or 0,
                                envelopes=envelopes + _control_envelopes(uow),
                                after_commit=list(uow._after_commit),
                            )
                        )
                    else:
                        # Gateway instructions alone (a revoked session's sockets to close)
                        # leave nothing to look up, so they are carried out now: closing the
                        # sockets of a session that lives on costs them a reconnect, while
                        # leaving those of a revoked one open would go on serving it.
                        await self.publish_all(_control_envelopes(uow))
                raise
        for event, audience in uow._ephemeral:
            envelopes.append(Envelope(tuple(sorted(audience.recipients)), render_frame(event)))
        envelopes.extend(_control_envelopes(uow))
        if uow.integrations.pending and self.integration_listener is not None:
            self.integration_listener.committed()
        await self.publish_all(envelopes)
        await _run_after_commit(uow._after_commit)

    @property
    def has_driver_units(self) -> bool:
        """Whether ``driver_transaction`` is available (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    @contextlib.asynccontextmanager
    async def driver_transaction(self) -> AsyncIterator[DriverUnit]:
        """A transaction on the driver's connection (PostgreSQL only, see ``DriverUnit``).
        Errors of the driver come out as SQLAlchemy's, as from ``transaction``: a lost
        connection as an OperationalError (503), a constraint as an IntegrityError."""
        envelopes: list[Envelope] = []
        async with self.engine.connect() as pooled:
            pooled_raw = await pooled.get_raw_connection()
            raw = pooled_raw.driver_connection
            assert raw is not None
            unit = DriverUnit(raw, integrations=IntegrationEvents(self.integration_listener))
            committing = False
            transaction = raw.transaction()
            try:
                await transaction.start()
                try:
                    yield unit
                    if unit.integrations.pending and self.integration_listener is not None:
                        await self.integration_listener.store_on_driver(
                            raw, unit.integrations.pending
                        )
                    envelopes = [
                        *unit._stored,
                        *await store_events_on_driver(raw, unit._durable),
                    ]
                    committing = True
                    await transaction.commit()
                except BaseException:
                    if not committing and not raw.is_closed():
                        with contextlib.suppress(Exception):
                            await transaction.rollback()
                    raise
            except Exception as exc:
                error = driver_error(self.engine, exc, connection_lost=raw.is_closed())
                if error is exc:
                    raise
                if database_unreachable(error):
                    # As SQLAlchemy does on a lost connection: this one is dropped, and the rest
                    # of the pool, which most likely lost theirs too, is renewed as it is used.
                    self.engine.sync_engine.pool._invalidate(pooled_raw, error)
                if committing and _commit_outcome_unknown(error) and envelopes:
                    self._settle_later(
                        _InDoubtCommit(
                            event_id=envelopes[0].event_id or 0,
                            envelopes=envelopes,
                            after_commit=[],
                        )
                    )
                raise error from exc
            except asyncio.CancelledError:
                if committing and envelopes:
                    self._settle_later(
                        _InDoubtCommit(
                            event_id=envelopes[0].event_id or 0,
                            envelopes=envelopes,
                            after_commit=[],
                        )
                    )
                raise
        if unit.integrations.pending and self.integration_listener is not None:
            self.integration_listener.committed()
        await self.publish_all(envelopes)

    @contextlib.asynccontextmanager
    async def driver_unit(self) -> AsyncIterator[DriverUnit | SqliteUnit]:
        """``driver_transaction`` on PostgreSQL, ``sqlite_transaction`` on SQLite: the busiest
        writes' unit, whichever the database."""
        if self.has_driver_units:
            async with self.driver_transaction() as unit:
                yield unit
        else:
            async with self.sqlite_transaction() as sqlite_unit:
                yield sqlite_unit

    @contextlib.asynccontextmanager
    async def sqlite_transaction(self) -> AsyncIterator[SqliteUnit]:
        """A transaction on SQLite's driver connection (see ``SqliteUnit``), serialised with
        every other write as ``transaction`` is. Errors of the driver come out as SQLAlchemy's.
        """
        assert self._write_lock is not None
        envelopes: list[Envelope] = []
        async with self._write_lock, self.engine.connect() as pooled:
            raw = (await pooled.get_raw_connection()).driver_connection
            assert raw is not None
            connection = SqliteConnection(raw, self.engine.dialect)
            unit = SqliteUnit(connection)
            # Rows by name as well as by place, as the PostgreSQL driver's are; the pooled
            # connection is handed back as SQLAlchemy expects it.
            raw.row_factory = sqlite3.Row
            try:
                await connection.execute("BEGIN IMMEDIATE")
                try:
                    yield unit
                    envelopes = await store_events_on_sqlite(connection, unit._durable)
                    await raw.commit()
                except BaseException:
                    with contextlib.suppress(Exception):
                        await raw.rollback()
                    raise
            except sqlite3.Error as exc:
                raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
            finally:
                raw.row_factory = None
        await self.publish_all(envelopes)

    def _settle_later(self, commit: _InDoubtCommit) -> None:
        log.warning(
            "commit of event %s may or may not have happened; will find out", commit.event_id
        )
        self._in_doubt.append(commit)
        if self._settling is None or self._settling.done():
            self._settling = asyncio.get_running_loop().create_task(
                self._settle(), name="in-doubt-commits"
            )

    async def _settle(self) -> None:
        """Once the database answers again, look up whether each in-doubt commit happened, and
        publish what those that did would have published. It goes out on the bus like any event,
        so sockets on every instance get it, not only this one's."""
        outage = OutageLog(log, "settling in-doubt commits")
        delay = 0.2
        while self._in_doubt:
            await asyncio.sleep(delay)
            pending = list(self._in_doubt)
            try:
                async with self.read() as session:
                    found = set(
                        await session.scalars(
                            select(StoredEvent.id).where(
                                StoredEvent.id.in_([c.event_id for c in pending])
                            )
                        )
                    )
            except Exception as exc:
                outage.failed(exc)
                delay = min(delay * 2, SETTLE_BACKOFF_MAX)
                continue
            outage.succeeded()
            # A COMMIT that reached the server is done well within the time it takes to notice
            # the lost connection and connect again, and one that did not is rolled back with
            # that connection; so the answer is taken as final. (A commit held up for longer,
            # e.g. by a synchronous standby, reaches sockets on their next resume, as before.)
            del self._in_doubt[: len(pending)]
            for commit in pending:
                if commit.event_id not in found:
                    continue
                log.warning("the commit of event %s did happen; publishing it", commit.event_id)
                await self.publish_all(commit.envelopes)
                await _run_after_commit(commit.after_commit)

    async def close(self) -> None:
        if self._settling is not None:
            self._settling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._settling
        await self.engine.dispose()

    async def publish_ephemeral(
        self, event: Event, audience: Audience, *, lane: str | None = None
    ) -> None:
        """Send an event that changes no state (typing) without a transaction. Events of a
        ``lane`` may be dropped for a socket that falls behind (see Gateway.lane_dropped)."""
        if audience:
            recipients = tuple(sorted(audience.recipients))
            await self.publish(Envelope(recipients, render_frame(event), lane=lane))

    async def publish(self, envelope: Envelope) -> None:
        await self.publish_all([envelope])

    async def publish_all(self, envelopes: list[Envelope]) -> None:
        """Publish a transaction's envelopes, in order, in one exchange with the bus."""
        for envelope in envelopes:
            if not envelope.control:
                EVENTS_PUBLISHED.labels("durable" if envelope.event_id else "ephemeral").inc()
        try:
            await self.bus.publish_many(envelopes)
        except Exception:
            # The events are in the database; clients receive them on their next resume.
            log.exception("publishing events %s failed", [e.event_id for e in envelopes])


def _control_envelopes(uow: UnitOfWork) -> list[Envelope]:
    return [
        Envelope(tuple(sorted(audience.recipients)), control=instruction)
        for instruction, audience in uow._controls
    ]


async def _run_after_commit(callbacks: list[Callable[[], Awaitable[None]]]) -> None:
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            log.exception("after-commit callback failed")


def driver_error(engine: AsyncEngine, exc: Exception, *, connection_lost: bool) -> Exception:
    """An error of the driver as SQLAlchemy raises it from a session (``connection_lost``: the
    driver's connection is closed, so the error is the database out of reach); any other
    error as it is (a refusal of the action, a bug)."""
    if isinstance(exc, DBAPIError):
        return exc
    dbapi = engine.dialect.loaded_dbapi
    translate = getattr(dbapi, "_asyncpg_error_translate", {})
    for kind in type(exc).__mro__:
        if kind in translate:
            translated = translate[kind](exc.args[0] if exc.args else str(exc), exc)
            return DBAPIError.instance(
                None, None, translated, dbapi.Error, connection_invalidated=connection_lost
            )
    if isinstance(exc, OSError | ConnectionError | TimeoutError) or type(exc).__name__ in (
        "ConnectionDoesNotExistError",
        "InterfaceError",
    ):
        return OperationalError(None, None, exc, connection_invalidated=True)
    return exc
