"""One transaction, and the events it emits, published only once it has committed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from impserver.realtime.bus import EventBus
from impserver.realtime.events import Audience, Event
from impserver.realtime.outbox import Envelope, render_frame, store_event

log = logging.getLogger(__name__)
_Row = TypeVar("_Row")


@dataclass
class UnitOfWork:
    session: AsyncSession
    _durable: list[tuple[Event, Audience]] = field(default_factory=list)
    _ephemeral: list[tuple[Event, Audience]] = field(default_factory=list)
    _controls: list[tuple[str, Audience]] = field(default_factory=list)
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

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


class Database:
    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.bus = bus
        # SQLite allows one writer; serialising our own write transactions avoids "database is
        # locked" errors when a read-then-write transaction would otherwise race another writer.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        lock = self._write_lock or contextlib.nullcontext()
        envelopes: list[Envelope] = []
        async with lock, self.sessionmaker() as session:
            uow = UnitOfWork(session)
            async with session.begin():
                yield uow
                for event, audience in uow._durable:
                    envelopes.append(await store_event(session, event, audience))
        for event, audience in uow._ephemeral:
            envelopes.append(Envelope(tuple(sorted(audience.recipients)), render_frame(event)))
        for instruction, audience in uow._controls:
            envelopes.append(Envelope(tuple(sorted(audience.recipients)), control=instruction))
        for envelope in envelopes:
            await self.publish(envelope)
        for callback in uow._after_commit:
            try:
                await callback()
            except Exception:
                log.exception("after-commit callback failed")

    async def publish_ephemeral(self, event: Event, audience: Audience) -> None:
        """Send an event that changes no state (typing) without a transaction."""
        if audience:
            await self.publish(Envelope(tuple(sorted(audience.recipients)), render_frame(event)))

    async def publish(self, envelope: Envelope) -> None:
        try:
            await self.bus.publish(envelope)
        except Exception:
            # The event is in the database; clients receive it on their next resume.
            log.exception("publishing event %s failed", envelope.event_id)
