"""The durable event log: every event delivered to a person is stored with its recipients.

Storing the event in the same transaction as the change it describes gives every event an
increasing id, lets a reconnecting tab ask for what it missed, and survives restarts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base, numbered
from impserver.realtime.events import Audience, Event, RelayedEvent


class StoredEvent(Base):
    __tablename__ = "realtime_events"
    # Ids must never be reused, even once old events are pruned: clients resume by id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    type: Mapped[str] = mapped_column(String(64))
    # The event serialised once for all recipients, without its id (known only once inserted):
    # ``frame_with_id`` puts the id in front when it is sent.
    frame: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class StoredEventRecipient(Base):
    __tablename__ = "realtime_event_recipients"
    __table_args__ = (Index("ix_realtime_event_recipients_event", "event_id"),)

    recipient: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("realtime_events.id", ondelete="CASCADE"),
        primary_key=True,
    )


@dataclass(frozen=True)
class Envelope:
    """What travels on the bus: recipients plus a ready-to-send frame, or a control instruction."""

    recipients: tuple[str, ...]
    frame: str = ""
    event_id: int | None = None
    control: str | None = None
    # Frames of one lane (e.g. "cobrowse:12", one co-browsing session's page changes) may be
    # dropped for a socket that cannot keep up; the lane's owner then starts it afresh.
    lane: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {
                "r": self.recipients,
                "f": self.frame,
                "i": self.event_id,
                "c": self.control,
                "l": self.lane,
            },
            separators=(",", ":"),
        )

    @staticmethod
    def encode_all(envelopes: list[Envelope]) -> str:
        """Several envelopes (a transaction's) as one bus message: a JSON array of them."""
        return "[" + ",".join(envelope.encode() for envelope in envelopes) + "]"

    @classmethod
    def decode_all(cls, raw: str | bytes) -> list[Envelope]:
        """The envelopes of a bus message: one (``encode``) or several (``encode_all``)."""
        data = json.loads(raw)
        return [cls._of(item) for item in data] if isinstance(data, list) else [cls._of(data)]

    @classmethod
    def _of(cls, data: dict[str, Any]) -> Envelope:
        return cls(
            tuple(data["r"]), data.get("f") or "", data.get("i"), data.get("c"), data.get("l")
        )


# A str holding any of these cannot be encoded as UTF-8, the encoding of every text frame. JSON
# may carry them ("\ud800" is valid JSON, and a page's text may hold half an emoji).
_SURROGATE = re.compile("[\ud800-\udfff]")


def render_frame(event: Event) -> str:
    """The event as a JSON text frame that every socket can send.

    Non-ASCII characters stay as they are (Cyrillic as \\u escapes would double every Russian
    message), except when the payload holds surrogate code points, which UTF-8 cannot encode:
    those frames are written with escapes, which the browser's JSON.parse turns back into the
    very same characters, so a relayed page or signal arrives exactly as it was sent.
    """
    # mode="json" also turns infinite and NaN numbers, which JSON has no words for, into null;
    # a relayed event has them refused instead (ValueError), as the sender's mistake.
    payload = dict(event) if isinstance(event, RelayedEvent) else event.model_dump(mode="json")
    frame = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not frame.isascii() and _SURROGATE.search(frame):
        frame = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return frame


def frame_with_id(frame: str, event_id: int) -> str:
    """``{"type":...}`` → ``{"id":N,"type":...}`` without parsing the frame again."""
    if frame.startswith('{"id":'):  # stored before frames were kept without their id
        return frame
    return f'{{"id":{event_id},{frame[1:]}'


# PostgreSQL stores all of a transaction's events with their recipients in one statement: one
# round trip however many events and recipients there are. Ids are drawn in the events' order.
_STORE_EVENTS_SQL = """
    WITH input AS (
        SELECT nextval('realtime_events_id_seq') AS id, type, frame, n
        FROM unnest(CAST(:types AS varchar[]), CAST(:frames AS text[]))
            WITH ORDINALITY AS t(type, frame, n)
    ), stored AS (
        INSERT INTO realtime_events (id, type, frame, created_at)
        SELECT id, type, frame, :created_at FROM input
    ), recipients AS (
        INSERT INTO realtime_event_recipients (recipient, event_id)
        SELECT r.recipient, input.id
        FROM unnest(CAST(:recipients AS varchar[]), CAST(:numbers AS bigint[])) AS r(recipient, n)
        JOIN input USING (n)
    )
    SELECT id FROM input ORDER BY n
    """
_STORE_EVENTS_POSTGRES = text(_STORE_EVENTS_SQL)
_STORE_EVENTS_DRIVER, _STORE_EVENTS_DRIVER_NAMES = numbered(_STORE_EVENTS_SQL)


async def store_events(
    session: AsyncSession, events: list[tuple[Event, Audience]]
) -> list[Envelope]:
    """Store events in the log, each with its recipients; envelopes ready to publish."""
    if not events:
        return []
    frames, audiences = _rendered(events)
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.scalars(
            _STORE_EVENTS_POSTGRES,
            _events_parameters([event.type for event, _ in events], frames, audiences),
        )
        ids = list(rows)
    else:
        ids = []
        now = utcnow()
        for (event, _), frame in zip(events, frames, strict=True):
            event_id = await session.scalar(
                _INSERT_EVENT, {"type": event.type, "frame": frame, "created_at": now}
            )
            assert event_id is not None
            ids.append(event_id)
        # Every event's recipients in one statement.
        await session.execute(
            _INSERT_RECIPIENT,
            [
                {"recipient": r, "event_id": event_id}
                for event_id, recipients in zip(ids, audiences, strict=True)
                for r in recipients
            ],
        )
    return _envelopes(ids, frames, audiences)


# SQLite's statements, built once and on the tables: building an ORM insert for every event cost
# a third of a room message's CPU.
_EVENTS = cast(Table, StoredEvent.__table__)
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)
_INSERT_RECIPIENT = insert(cast(Table, StoredEventRecipient.__table__))


def _rendered(
    events: list[tuple[Event, Audience]],
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Each event's frame, rendered once for all its recipients, and its recipients in order."""
    frames = [render_frame(event) for event, _ in events]
    return frames, [tuple(sorted(audience.recipients)) for _, audience in events]


def _events_parameters(
    types: list[str], frames: list[str], audiences: list[tuple[str, ...]]
) -> dict[str, Any]:
    return {
        "types": types,
        "frames": frames,
        "created_at": utcnow(),
        "recipients": [r for recipients in audiences for r in recipients],
        "numbers": [n for n, rs in enumerate(audiences, start=1) for _ in rs],
    }


def _envelopes(
    ids: list[int], frames: list[str], audiences: list[tuple[str, ...]]
) -> list[Envelope]:
    return [
        Envelope(recipients=recipients, frame=frame_with_id(frame, event_id), event_id=event_id)
        for event_id, frame, recipients in zip(ids, frames, audiences, strict=True)
    ]


async def store_events_on_driver(
    connection: Any, events: list[tuple[Event, Audience]]
) -> list[Envelope]:
    """``store_events`` on PostgreSQL's driver connection (see unit_of_work.DriverUnit)."""
    if not events:
        return []
    frames, audiences = _rendered(events)
    parameters = _events_parameters([event.type for event, _ in events], frames, audiences)
    rows = await connection.fetch(
        _STORE_EVENTS_DRIVER, *(parameters[name] for name in _STORE_EVENTS_DRIVER_NAMES)
    )
    return _envelopes([row[0] for row in rows], frames, audiences)


async def store_events_on_sqlite(
    connection: Any, events: list[tuple[Event, Audience]]
) -> list[Envelope]:
    """``store_events`` on SQLite's driver connection (see unit_of_work.SqliteUnit)."""
    if not events:
        return []
    frames, audiences = _rendered(events)
    created_at = connection.time(utcnow())
    ids = []
    for (event, _), frame in zip(events, frames, strict=True):
        (event_id,) = await connection.fetchrow(
            "INSERT INTO realtime_events (type, frame, created_at) VALUES (?, ?, ?) RETURNING id",
            event.type,
            frame,
            created_at,
        )
        ids.append(event_id)
    await connection.executemany(
        "INSERT INTO realtime_event_recipients (recipient, event_id) VALUES (?, ?)",
        [
            (recipient, event_id)
            for event_id, recipients in zip(ids, audiences, strict=True)
            for recipient in recipients
        ],
    )
    return _envelopes(ids, frames, audiences)


# Events about a row that a statement inserts can be stored by that same statement: one round
# trip for a message and the events announcing it. They are rendered before the row has its id,
# with ID_PLACEHOLDER as the id, and the statement writes the row's id in its place (so does
# ``NewRowEvents.envelopes`` in the frames it publishes). A negative id names no row, and the
# quotes of an ``"id":`` inside a JSON string are escaped, so in a frame the pattern marks only
# an id field; events that hold the number anywhere else are not stored this way.
ID_PLACEHOLDER = -9_007_199_254_740_975
_PLACEHOLDER_FIELD = f'"id":{ID_PLACEHOLDER}'

# CTEs to append to a statement whose CTE ``{row}`` inserts a row and returns its id: they
# store the events of :event_types and :event_frames, each with its recipients (rows of
# ``{recipients}``: the recipient and the event's number, from 1), for each row it inserted, and
# none when it inserted none (a retried send). The statement selects
# ``ARRAY(SELECT id FROM event_input ORDER BY n)``: the events' ids.
NEW_ROW_EVENTS_CTES = """
    , event_input AS (
        SELECT nextval('realtime_events_id_seq') AS id, t.type, t.n,
               replace(t.frame, CAST(:event_placeholder AS TEXT), '"id":' || {row}.id) AS frame
        FROM {row}, unnest(CAST(:event_types AS varchar[]), CAST(:event_frames AS text[]))
            WITH ORDINALITY AS t(type, frame, n)
    ), event_stored AS (
        INSERT INTO realtime_events (id, type, frame, created_at)
        SELECT id, type, frame, CAST(:event_created_at AS TIMESTAMP WITH TIME ZONE)
        FROM event_input
    ), event_recipients AS (
        INSERT INTO realtime_event_recipients (recipient, event_id)
        SELECT r.recipient, event_input.id FROM ({recipients}) AS r(recipient, n)
        JOIN event_input USING (n)
    )
"""
# The recipients of NEW_ROW_EVENTS_CTES as the statement's parameters (``new_row_events``).
GIVEN_RECIPIENTS = (
    "SELECT * FROM unnest(CAST(:event_recipients AS varchar[]), CAST(:event_numbers AS bigint[]))"
)


@dataclass(frozen=True)
class NewRowEvents:
    """Events rendered with ID_PLACEHOLDER, ready for NEW_ROW_EVENTS_CTES."""

    frames: list[str]
    audiences: list[tuple[str, ...]]
    parameters: dict[str, Any]

    def envelopes(
        self, event_ids: list[int], row_id: int, selected: Audience | None = None
    ) -> list[Envelope]:
        """What to publish once the statement stored the events for the row ``row_id``;
        ``selected``: the recipients it selected itself (``new_row_events_to_selected``)."""
        field = f'"id":{row_id}'
        frames = [frame.replace(_PLACEHOLDER_FIELD, field) for frame in self.frames]
        audiences = (
            self.audiences
            if selected is None
            else [tuple(sorted(selected.recipients))] * len(frames)
        )
        return _envelopes(event_ids, frames, audiences)


def new_row_events(events: list[tuple[Event, Audience]]) -> NewRowEvents | None:
    """``events`` (rendered with ID_PLACEHOLDER for the row's id) for NEW_ROW_EVENTS_CTES with
    GIVEN_RECIPIENTS; None if a frame holds the placeholder's digits elsewhere than an id
    field."""
    given = [(event, audience) for event, audience in events if audience]
    frames, audiences = _rendered(given)
    return _new_row([event.type for event, _ in given], frames, audiences)


def new_row_events_to_selected(events: list[Event]) -> NewRowEvents | None:
    """As ``new_row_events``, for events whose recipients the statement selects itself (the
    ``{recipients}`` of NEW_ROW_EVENTS_CTES), the same for each of them."""
    frames = [render_frame(event) for event in events]
    return _new_row([event.type for event in events], frames, [() for _ in events])


def _new_row(
    types: list[str], frames: list[str], audiences: list[tuple[str, ...]]
) -> NewRowEvents | None:
    digits = str(ID_PLACEHOLDER)
    if any(frame.count(digits) != frame.count(_PLACEHOLDER_FIELD) for frame in frames):
        return None
    stored = _events_parameters(types, frames, audiences)
    parameters = {f"event_{name}": value for name, value in stored.items()}
    parameters["event_placeholder"] = _PLACEHOLDER_FIELD
    return NewRowEvents(frames, audiences, parameters)


# Commits on PostgreSQL may become visible out of id order; replaying this far back as well
# (the client ignores ids it has seen) closes that gap.
OUT_OF_ORDER_WINDOW = timedelta(seconds=5)
REPLAY_LIMIT = 2000


@dataclass(frozen=True)
class Replay:
    frames: list[tuple[int, str]]
    too_old: bool


async def events_since(session: AsyncSession, recipient: str, last_event_id: int) -> Replay:
    oldest_kept = await session.scalar(select(func.min(StoredEvent.id)))
    if oldest_kept is not None and last_event_id < oldest_kept - 1:
        # Retention dropped events this client may never have seen: it must reload its state.
        return Replay([], too_old=True)
    rows = await session.execute(
        select(StoredEvent.id, StoredEvent.frame)
        .join(StoredEventRecipient, StoredEventRecipient.event_id == StoredEvent.id)
        .where(StoredEventRecipient.recipient == recipient)
        .where(
            (StoredEvent.id > last_event_id)
            | (StoredEvent.created_at > utcnow() - OUT_OF_ORDER_WINDOW)
        )
        .order_by(StoredEvent.id)
        .limit(REPLAY_LIMIT + 1)
    )
    frames = [(row.id, frame_with_id(row.frame, row.id)) for row in rows]
    if len(frames) > REPLAY_LIMIT:
        return Replay([], too_old=True)
    return Replay(frames, too_old=False)


async def latest_event_id(session: AsyncSession, recipient: str) -> int:
    value = await session.scalar(
        select(func.max(StoredEventRecipient.event_id)).where(
            StoredEventRecipient.recipient == recipient
        )
    )
    return int(value or 0)


async def prune_events(session: AsyncSession, older_than: datetime) -> int:
    doomed = select(StoredEvent.id).where(StoredEvent.created_at < older_than)
    await session.execute(
        delete(StoredEventRecipient).where(StoredEventRecipient.event_id.in_(doomed))
    )
    result = await session.execute(delete(StoredEvent).where(StoredEvent.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
