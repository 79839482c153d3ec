"""Appending messages to a room and reading them back: shared by employee rooms and requests.

These functions work inside a caller's unit of work; the caller's action decides who may post
and emits the event to the right audience.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from starlette.datastructures import UploadFile

from impserver.core.clock import utcnow
from impserver.core.db import numbered
from impserver.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from impserver.core.unit_of_work import DriverUnit, SqliteUnit, UnitOfWork
from impserver.domains.accounts.models import Employee, avatar_url_of
from impserver.domains.clients.models import Client
from impserver.domains.rooms.access import ROOM_NOT_FOUND
from impserver.domains.rooms.models import (
    ROOM_REQUEST,
    WRITTEN_KINDS,
    Attachment,
    Message,
    Room,
    RoomMember,
    search_text_of,
)
from impserver.domains.rooms.schemas import (
    AttachmentRead,
    MessageAuthor,
    MessageRead,
    QuotedMessage,
)
from impserver.domains.rooms.thumbnails import PICTURE_UNREADABLE, Thumbnail, make_thumbnail
from impserver.realtime.events import EMPLOYEE_KEY_PREFIX, Audience, Event
from impserver.realtime.outbox import (
    GIVEN_RECIPIENTS,
    ID_PLACEHOLDER,
    NEW_ROW_EVENTS_CTES,
    new_row_events,
    new_row_events_to_selected,
)
from impserver.services import Services

MAX_BODY_CHARS = 10_000
MAX_ATTACHMENTS = 10
# How much of a message a reply quotes.
QUOTE_CHARS = 200
# Shown inline (previews); every other type is downloaded, never rendered by the browser.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def attachment_read(attachment: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=attachment.id,
        file_name=attachment.file_name,
        content_type=attachment.content_type,
        size=attachment.size,
        is_image=attachment.content_type in INLINE_IMAGE_TYPES,
        url=f"/api/files/{attachment.id}",
        thumbnail_url=(
            f"/api/files/{attachment.id}/thumbnail" if attachment.thumbnail_key else None
        ),
        width=attachment.width,
        height=attachment.height,
    )


# Statements of every send, built once: building one costs about as much CPU as running it.
_MESSAGE_BY_CLIENT_ID = (
    select(Message)
    .where(Message.room_id == bindparam("room_id"))
    .where(Message.client_message_id == bindparam("client_message_id"))
)
# On the tables, not the mapped classes: an ORM-enabled statement costs more to run.
_MESSAGES = cast(Table, Message.__table__)
_ROOMS = cast(Table, Room.__table__)
_MEMBERS = cast(Table, RoomMember.__table__)
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
_MARK_ROOM_NEWEST = (
    update(_ROOMS)
    .where(_ROOMS.c.id == bindparam("in_room"))
    .values(last_message_id=bindparam("newest"), last_message_at=bindparam("at"))
)
_MOVE_AUTHOR_READ_MARK = (
    update(_MEMBERS)
    .where(_MEMBERS.c.room_id == bindparam("in_room"))
    .where(_MEMBERS.c.employee_id == bindparam("author"))
    .values(last_read_message_id=bindparam("message"))
)
# Whether a send is a retry: asked of every send that carries its client's id, and almost never
# so, hence a plain Core lookup of the id first.
_MESSAGE_ID_BY_CLIENT_ID = (
    select(_MESSAGES.c.id)
    .where(_MESSAGES.c.room_id == bindparam("room_id"))
    .where(_MESSAGES.c.client_message_id == bindparam("client_message_id"))
)
# PostgreSQL tells a retried send by its id, writes the new message, the room's newest-message
# mark and the author's read mark in one statement: one round trip where the statements above
# take four. A retry writes nothing and names the earlier message; a copy racing this one is
# refused by the unique key (see rooms/idempotency.py).
_APPEND_TEMPLATE = """
    WITH {before}existing AS (
        SELECT id FROM messages
        WHERE room_id = CAST(:room_id AS INTEGER)
          AND client_message_id = CAST(:client_message_id AS VARCHAR)
    ), added AS (
        INSERT INTO messages (room_id, author_employee_id, author_client_id, kind, body,
                              search_text, client_message_id, meta, created_at, reply_to_id)
        SELECT CAST(:room_id AS INTEGER), CAST(:author_employee_id AS INTEGER),
               CAST(:author_client_id AS INTEGER), CAST(:kind AS VARCHAR),
               CAST(:body AS TEXT), CAST(:search_text AS TEXT),
               CAST(:client_message_id AS VARCHAR), CAST(:meta AS JSON),
               CAST(:created_at AS TIMESTAMP WITH TIME ZONE), CAST(:reply_to_id AS INTEGER)
        WHERE NOT EXISTS (SELECT 1 FROM existing){guard}
        RETURNING id
    ), newest AS (
        UPDATE rooms SET last_message_id = added.id,
                         last_message_at = CAST(:created_at AS TIMESTAMP WITH TIME ZONE)
        FROM added WHERE rooms.id = CAST(:room_id AS INTEGER)
    ), read_mark AS (
        UPDATE room_members SET last_read_message_id = added.id
        FROM added
        WHERE room_members.room_id = CAST(:room_id AS INTEGER)
          AND room_members.employee_id = CAST(:reader AS INTEGER)
    )
    """
_APPEND_SQL = _APPEND_TEMPLATE.format(before="", guard="")
_APPENDED = "SELECT (SELECT id FROM added) AS added_id, (SELECT id FROM existing) AS existing_id"
_APPEND_POSTGRES = text(_APPEND_SQL + _APPENDED)
# The same, storing the events that announce the message too (see outbox.NEW_ROW_EVENTS_CTES):
# the driver path's only statement for the message.
_APPEND_ANNOUNCED_SQL = (
    _APPEND_SQL
    + NEW_ROW_EVENTS_CTES.format(row="added", recipients=GIVEN_RECIPIENTS)
    + _APPENDED
    + ", ARRAY(SELECT id FROM event_input ORDER BY n) AS event_ids"
)
_APPEND_DRIVER, _APPEND_DRIVER_NAMES = numbered(_APPEND_SQL + _APPENDED)
_APPEND_ANNOUNCED_DRIVER, _APPEND_ANNOUNCED_DRIVER_NAMES = numbered(_APPEND_ANNOUNCED_SQL)
# An employee's message to a team or direct room, all in one statement: the room's members
# (the author must be one: nothing is written otherwise), the message as above, and its event
# to every member.
_POST_TO_ROOM_SQL = (
    _APPEND_TEMPLATE.format(
        before="""members AS (
        SELECT room_members.employee_id FROM room_members
        JOIN rooms ON rooms.id = room_members.room_id
        WHERE rooms.id = CAST(:room_id AS INTEGER) AND rooms.kind <> CAST(:not_kind AS VARCHAR)
    ), author_member AS (
        SELECT 1 FROM members WHERE employee_id = CAST(:author_employee_id AS INTEGER)
    ), """,
        guard=" AND EXISTS (SELECT 1 FROM author_member)",
    )
    + NEW_ROW_EVENTS_CTES.format(
        row="added",
        recipients="SELECT CAST(:employee_key_prefix AS TEXT) || employee_id, 1 FROM members",
    )
    + _APPENDED
    + """, ARRAY(SELECT id FROM event_input ORDER BY n) AS event_ids,
        EXISTS (SELECT 1 FROM author_member) AS is_member,
        ARRAY(SELECT employee_id FROM members) AS members"""
)
_POST_TO_ROOM_DRIVER, _POST_TO_ROOM_DRIVER_NAMES = numbered(_POST_TO_ROOM_SQL)


def employee_author(employee: Employee) -> MessageAuthor:
    """An employee as the author of what they write now, from the row the caller holds."""
    return MessageAuthor(
        kind="employee", id=employee.id, name=employee.name, avatar_url=employee.avatar_url
    )


async def _authors(
    session: AsyncSession, messages: list[Message]
) -> Callable[[Message], MessageAuthor]:
    """The messages' authors, employees (name and photo) and clients, in two queries at most."""
    employee_ids = {m.author_employee_id for m in messages if m.author_employee_id}
    employees = (
        {
            row.id: MessageAuthor(
                kind="employee", id=row.id, name=row.name, avatar_url=avatar_url_of(row.avatar_key)
            )
            for row in await session.execute(
                select(Employee.id, Employee.name, Employee.avatar_key).where(
                    Employee.id.in_(employee_ids)
                )
            )
        }
        if employee_ids
        else {}
    )
    client_ids = {m.author_client_id for m in messages if m.author_client_id}
    client_names: dict[int, str] = (
        {
            client_id: name
            for client_id, name in await session.execute(
                select(Client.id, Client.display_name).where(Client.id.in_(client_ids))
            )
        }
        if client_ids
        else {}
    )

    def author_of(m: Message) -> MessageAuthor:
        if m.author_employee_id:
            return employees.get(m.author_employee_id) or _author(m.author_employee_id, None, "")
        return _author(None, m.author_client_id, client_names.get(m.author_client_id or 0, ""))

    return author_of


def _author(employee_id: int | None, client_id: int | None, name: str) -> MessageAuthor:
    if employee_id:
        return MessageAuthor(kind="employee", id=employee_id, name=name)
    if client_id:
        return MessageAuthor(kind="client", id=client_id, name=name)
    return MessageAuthor(kind="system", id=None, name="")


def _message_read(
    m: Message,
    author: MessageAuthor,
    attachments: list[AttachmentRead],
    reply_to: QuotedMessage | None = None,
) -> MessageRead:
    deleted = m.deleted_at is not None
    return MessageRead(
        id=m.id,
        room_id=m.room_id,
        kind=m.kind,
        body="" if deleted else m.body,
        author=author,
        attachments=[] if deleted else attachments,
        client_message_id=m.client_message_id,
        meta=m.meta or {},
        created_at=m.created_at,
        edited_at=m.edited_at,
        deleted=deleted,
        reply_to=reply_to,
    )


async def _quotes(session: AsyncSession, quoted: list[Message]) -> dict[int, QuotedMessage]:
    """How each of ``quoted`` shows above the messages that answer it."""
    if not quoted:
        return {}
    ids = [m.id for m in quoted]
    counted = await session.execute(
        select(Attachment.message_id, func.count())
        .where(Attachment.message_id.in_(ids))
        .group_by(Attachment.message_id)
    )
    files = {message_id: count for message_id, count in counted}
    author_of = await _authors(session, quoted)
    quotes = {}
    for m in quoted:
        deleted = m.deleted_at is not None
        channel_id = (m.meta or {}).get("channel_message_id")
        quotes[m.id] = QuotedMessage(
            id=m.id,
            kind=m.kind,
            author=author_of(m),
            body="" if deleted else m.body[:QUOTE_CHARS],
            attachments=0 if deleted else files.get(m.id, 0),
            deleted=deleted,
            channel_message_id=str(channel_id) if channel_id is not None else None,
        )
    return quotes


async def _reply_target(session: AsyncSession, room_id: int, reply_to_id: int) -> QuotedMessage:
    """The quote of the message a new one answers: a person's message of the same room."""
    target = await session.get(Message, reply_to_id)
    if (
        target is None
        or target.room_id != room_id
        or target.kind not in WRITTEN_KINDS
        or target.deleted_at is not None
    ):
        raise InvalidInput(
            "The message you are answering is not in this conversation (or was deleted).",
            code="reply_target_unavailable",
        )
    return (await _quotes(session, [target]))[target.id]


async def message_reads(
    session: AsyncSession, messages: list[Message], *, known_without_attachments: bool = False
) -> list[MessageRead]:
    """Serialise messages with their authors and attachments in a fixed number of queries
    (fewer when the caller knows the messages carry no files)."""
    ids = [m.id for m in messages]
    attachments: dict[int, list[AttachmentRead]] = defaultdict(list)
    if ids and not known_without_attachments:
        for attachment in await session.scalars(
            select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id)
        ):
            assert attachment.message_id is not None
            attachments[attachment.message_id].append(attachment_read(attachment))
    quoted_ids = {m.reply_to_id for m in messages if m.reply_to_id is not None}
    quotes = (
        await _quotes(
            session, list(await session.scalars(select(Message).where(Message.id.in_(quoted_ids))))
        )
        if quoted_ids
        else {}
    )
    author_of = await _authors(session, messages)
    return [
        _message_read(
            m,
            author_of(m),
            attachments[m.id],
            quotes.get(m.reply_to_id) if m.reply_to_id is not None else None,
        )
        for m in messages
    ]


async def history_page(
    session: AsyncSession, room_id: int, *, before_id: int | None = None, limit: int = 50
) -> list[MessageRead]:
    """Up to ``limit`` messages older than ``before_id``, oldest first (uses the room/id index)."""
    query = select(Message).where(Message.room_id == room_id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    newest_first = list(await session.scalars(query.order_by(Message.id.desc()).limit(limit)))
    return await message_reads(session, list(reversed(newest_first)))


async def append_message(
    uow: UnitOfWork,
    room: Room | int,
    *,
    body: str,
    author_employee_id: int | None = None,
    author_client_id: int | None = None,
    attachment_ids: list[int] | None = None,
    client_message_id: str | None = None,
    kind: str = "text",
    meta: dict[str, Any] | None = None,
    author: MessageAuthor | None = None,
    read_by_author: bool = False,
    reply_to_id: int | None = None,
) -> tuple[MessageRead, bool]:
    """Add a message to ``room`` (a room, or its id); returns it and whether it is new.

    A ``client_message_id`` already used in the room returns the earlier message instead
    (a retried send), so the caller must not emit it again when ``created`` is False.
    ``author`` is the author as the caller holds them now (``employee_author``), saving a lookup.
    ``read_by_author``: the employee author has read up to their new message (the room's newest,
    so no comparison is needed); nothing happens if they are not a member of the room.
    ``reply_to_id``: the message of the same room this one answers.

    The message, the room's newest-message mark and the author's read mark are written as Core
    statements rather than through the ORM's unit of work: on the busiest path of all, a flush
    costs several times what the statements themselves do. On PostgreSQL they are one statement.
    """
    session = uow.session
    room_id = room if isinstance(room, int) else room.id
    body = body.strip()
    attachment_ids = list(dict.fromkeys(attachment_ids or []))
    known = {"room_id": room_id, "client_message_id": client_message_id}
    one_statement = session.get_bind().dialect.name == "postgresql"
    if (
        client_message_id
        and not one_statement
        and await session.scalar(_MESSAGE_ID_BY_CLIENT_ID, known) is not None
    ):
        return await _earlier_message(session, known, author_employee_id, author_client_id)
    _check_size(body, attachment_ids, kind)
    reply_to = await _reply_target(session, room_id, reply_to_id) if reply_to_id else None
    attachments = (
        list(await session.scalars(select(Attachment).where(Attachment.id.in_(attachment_ids))))
        if attachment_ids
        else []
    )
    usable = {
        a.id
        for a in attachments
        if a.message_id is None
        and a.uploader_employee_id == author_employee_id
        and a.uploader_client_id == author_client_id
    }
    if missing := [i for i in attachment_ids if i not in usable]:
        raise InvalidInput(
            f"Attached file {missing[0]} is not available; upload it again.",
            code="attachment_unavailable",
        )
    if session.new or session.dirty or session.deleted:
        # Rows the caller added (a new request's room) must exist before the message does.
        await session.flush()
    now = utcnow()
    meta = meta or {}
    row = {
        "room_id": room_id,
        "author_employee_id": author_employee_id,
        "author_client_id": author_client_id,
        "kind": kind,
        "body": body,
        "search_text": search_text_of(body),
        "client_message_id": client_message_id,
        "meta": meta,
        "created_at": now,
        "reply_to_id": reply_to.id if reply_to else None,
    }
    reader = author_employee_id if read_by_author else None
    if one_statement:
        written = (
            await session.execute(
                _APPEND_POSTGRES, {**row, "meta": json.dumps(meta), "reader": reader}
            )
        ).one()
        if written.added_id is None:
            return await _earlier_message(session, known, author_employee_id, author_client_id)
        message_id = written.added_id
    else:
        message_id = await session.scalar(_INSERT_MESSAGE, row)
        assert message_id is not None
        await session.execute(
            _MARK_ROOM_NEWEST, {"in_room": room_id, "newest": message_id, "at": now}
        )
        if reader is not None:
            await session.execute(
                _MOVE_AUTHOR_READ_MARK,
                {"in_room": room_id, "author": reader, "message": message_id},
            )
    if attachment_ids:
        await session.execute(
            update(Attachment)
            .where(Attachment.id.in_(attachment_ids))
            .values(message_id=message_id)
        )
    if isinstance(room, Room):
        # The row was written above; the instance the caller holds shows it too, without
        # counting as a change to flush.
        set_committed_value(room, "last_message_id", message_id)
        set_committed_value(room, "last_message_at", now)
    if author is None:
        author = await _author_of(session, author_employee_id, author_client_id)
    files = [attachment_read(a) for a in sorted(attachments, key=lambda a: a.id)]
    message = MessageRead(
        id=message_id,
        room_id=room_id,
        kind=kind,
        body=body,
        author=author,
        attachments=files,
        client_message_id=client_message_id,
        meta=meta,
        created_at=now,
        edited_at=None,
        deleted=False,
        reply_to=reply_to,
    )
    return message, True


def _check_size(body: str, attachment_ids: list[int], kind: str) -> None:
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(
            f"The message is too long (at most {MAX_BODY_CHARS} characters).",
            code="message_too_long",
            params={"max": MAX_BODY_CHARS},
        )
    if len(attachment_ids) > MAX_ATTACHMENTS:
        raise InvalidInput(
            f"At most {MAX_ATTACHMENTS} files can go with one message.",
            code="too_many_files",
            params={"max": MAX_ATTACHMENTS},
        )
    if not body and not attachment_ids and kind in WRITTEN_KINDS:
        raise InvalidInput("The message is empty.", code="message_empty")


# The events announcing a new message, made from the message (see ``text_on_driver``).
Announcement = Callable[[MessageRead], list[tuple[Event, Audience]]]


async def text_on_driver(
    services: Services,
    unit: DriverUnit,
    room_id: int,
    author: MessageAuthor,
    *,
    body: str,
    client_message_id: str | None,
    announce: Announcement,
) -> tuple[MessageRead, bool]:
    """``append_message`` of a text without files by an employee (read by its author) or a
    client, in a ``DriverUnit`` (PostgreSQL): the same statement on the driver's connection.

    The events ``announce`` makes of a new message are stored by the statement that writes it
    (one round trip for both) and published after commit; a retried send writes nothing and
    announces nothing."""
    row, draft = _text_draft(room_id, author, body, client_message_id)
    events = new_row_events(announce(draft))
    if events is None:
        written = await unit.connection.fetchrow(
            _APPEND_DRIVER, *(row[name] for name in _APPEND_DRIVER_NAMES)
        )
    else:
        row.update(events.parameters)
        written = await unit.connection.fetchrow(
            _APPEND_ANNOUNCED_DRIVER, *(row[name] for name in _APPEND_ANNOUNCED_DRIVER_NAMES)
        )
    if written["added_id"] is None:
        return await _earlier_on_driver(services, draft)
    message = draft.model_copy(update={"id": written["added_id"]})
    if events is None:
        # Its text holds the placeholder: the events are stored after the message instead.
        for event, audience in announce(message):
            unit.emit(event, audience)
    else:
        unit.stored(events.envelopes(list(written["event_ids"]), message.id))
    return message, True


async def post_to_room_on_driver(
    services: Services,
    unit: DriverUnit,
    room_id: int,
    author: Employee,
    *,
    body: str,
    client_message_id: str | None,
    announce: Callable[[MessageRead], Event],
) -> tuple[MessageRead, bool] | None:
    """An employee's text to a team or direct room they are a member of, read by them, in one
    statement with the event ``announce`` makes of it to every member. NotFound if they are
    not a member (or there is no such room); None, with nothing written, if the event cannot
    be stored with the message (``new_row_events``): ``text_on_driver`` then writes it."""
    row, draft = _text_draft(room_id, employee_author(author), body, client_message_id)
    events = new_row_events_to_selected([announce(draft)])
    if events is None:
        return None
    row.update(events.parameters, not_kind=ROOM_REQUEST, employee_key_prefix=EMPLOYEE_KEY_PREFIX)
    written = await unit.connection.fetchrow(
        _POST_TO_ROOM_DRIVER, *(row[name] for name in _POST_TO_ROOM_DRIVER_NAMES)
    )
    if not written["is_member"]:
        raise NotFound(ROOM_NOT_FOUND, code="room_not_found")
    if written["added_id"] is None:
        return await _earlier_on_driver(services, draft)
    message = draft.model_copy(update={"id": written["added_id"]})
    members = Audience.employees(written["members"])
    unit.stored(events.envelopes(list(written["event_ids"]), message.id, members))
    return message, True


_MESSAGE_ID_BY_CLIENT_ID_SQLITE = (
    "SELECT id FROM messages WHERE room_id = ? AND client_message_id = ?"
)
_INSERT_MESSAGE_SQLITE = """
    INSERT INTO messages (room_id, author_employee_id, author_client_id, kind, body, search_text,
                          client_message_id, meta, created_at, reply_to_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
"""
_MARK_ROOM_NEWEST_SQLITE = "UPDATE rooms SET last_message_id = ?, last_message_at = ? WHERE id = ?"
_MOVE_AUTHOR_READ_MARK_SQLITE = (
    "UPDATE room_members SET last_read_message_id = ? WHERE room_id = ? AND employee_id = ?"
)


async def text_in_unit(
    services: Services,
    unit: DriverUnit | SqliteUnit,
    room_id: int,
    author: MessageAuthor,
    *,
    body: str,
    client_message_id: str | None,
    announce: Announcement,
) -> tuple[MessageRead, bool]:
    """``text_on_driver`` or ``text_on_sqlite``, whichever ``unit`` is for."""
    if isinstance(unit, DriverUnit):
        return await text_on_driver(
            services,
            unit,
            room_id,
            author,
            body=body,
            client_message_id=client_message_id,
            announce=announce,
        )
    return await text_on_sqlite(
        services,
        unit,
        room_id,
        author,
        body=body,
        client_message_id=client_message_id,
        announce=announce,
    )


async def text_on_sqlite(
    services: Services,
    unit: SqliteUnit,
    room_id: int,
    author: MessageAuthor,
    *,
    body: str,
    client_message_id: str | None,
    announce: Announcement,
) -> tuple[MessageRead, bool]:
    """``text_on_driver`` on SQLite: the statements of ``append_message`` on the driver's
    connection (``SqliteUnit``), and the events ``announce`` makes of a new message."""
    connection = unit.connection
    row, draft = _text_draft(room_id, author, body, client_message_id)
    if client_message_id and await connection.fetch(
        _MESSAGE_ID_BY_CLIENT_ID_SQLITE, room_id, client_message_id
    ):
        return await _earlier_on_driver(services, draft)
    created_at = connection.time(draft.created_at)
    (message_id,) = await connection.fetchrow(
        _INSERT_MESSAGE_SQLITE,
        room_id,
        row["author_employee_id"],
        row["author_client_id"],
        row["kind"],
        row["body"],
        row["search_text"],
        client_message_id,
        row["meta"],
        created_at,
        None,
    )
    await connection.execute(_MARK_ROOM_NEWEST_SQLITE, message_id, created_at, room_id)
    if row["reader"] is not None:
        await connection.execute(_MOVE_AUTHOR_READ_MARK_SQLITE, message_id, room_id, row["reader"])
    message = draft.model_copy(update={"id": message_id})
    for event, audience in announce(message):
        unit.emit(event, audience)
    return message, True


def _text_draft(
    room_id: int, author: MessageAuthor, body: str, client_message_id: str | None
) -> tuple[dict[str, Any], MessageRead]:
    """The row of a new text message, and the message as it will read, with ID_PLACEHOLDER
    for the id the statement writing it draws."""
    body = body.strip()
    _check_size(body, [], "text")
    now = utcnow()
    employee_id = author.id if author.kind == "employee" else None
    row = {
        "room_id": room_id,
        "author_employee_id": employee_id,
        "author_client_id": author.id if author.kind == "client" else None,
        "kind": "text",
        "body": body,
        "search_text": search_text_of(body),
        "client_message_id": client_message_id,
        "meta": "{}",
        "created_at": now,
        "reply_to_id": None,
        "reader": employee_id,
    }
    draft = MessageRead(
        id=ID_PLACEHOLDER,
        room_id=room_id,
        kind="text",
        body=body,
        author=author,
        attachments=[],
        client_message_id=client_message_id,
        meta={},
        created_at=now,
        edited_at=None,
        deleted=False,
    )
    return row, draft


async def _earlier_on_driver(services: Services, draft: MessageRead) -> tuple[MessageRead, bool]:
    """A retried send's earlier message, read as every other path reads it."""
    author = draft.author
    async with services.db.read() as session:
        known = {"room_id": draft.room_id, "client_message_id": draft.client_message_id}
        return await _earlier_message(
            session,
            known,
            author.id if author.kind == "employee" else None,
            author.id if author.kind == "client" else None,
        )


async def _earlier_message(
    session: AsyncSession,
    known: dict[str, Any],
    author_employee_id: int | None,
    author_client_id: int | None,
) -> tuple[MessageRead, bool]:
    """The message a retried send already wrote, if it is the same author's."""
    existing = await session.scalar(_MESSAGE_BY_CLIENT_ID, known)
    assert existing is not None
    if (existing.author_employee_id, existing.author_client_id) != (
        author_employee_id,
        author_client_id,
    ):
        raise Conflict(
            "This message id is already used by another message.", code="message_id_taken"
        )
    return (await message_reads(session, [existing]))[0], False


async def _author_of(
    session: AsyncSession, employee_id: int | None, client_id: int | None
) -> MessageAuthor:
    if employee_id:
        row = (
            await session.execute(
                select(Employee.name, Employee.avatar_key).where(Employee.id == employee_id)
            )
        ).first()
        return MessageAuthor(
            kind="employee",
            id=employee_id,
            name=row.name if row else "",
            avatar_url=avatar_url_of(row.avatar_key) if row else None,
        )
    if client_id:
        name = await session.scalar(select(Client.display_name).where(Client.id == client_id))
        return _author(None, client_id, name or "")
    return _author(None, None, "")


async def save_upload(
    services: Services,
    upload: UploadFile,
    *,
    employee_id: int | None = None,
    client_id: int | None = None,
) -> AttachmentRead:
    """Stream an uploaded file to storage (within the size limit) and record it, unattached."""

    async def chunks():  # type: ignore[no-untyped-def]
        while chunk := await upload.read(64 * 1024):
            yield chunk

    limit = services.settings.upload_max_bytes
    try:
        key, size = await services.files.save(chunks(), limit)
    except PayloadTooLarge as exc:
        raise file_too_large(limit) from exc
    if size == 0:
        await services.files.delete(key)
        raise InvalidInput("The file is empty.", code="file_empty")
    file_name = _clean_file_name(upload.filename or "file")
    content_type = (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()
    thumbnail: Thumbnail | None = None
    thumbnail_key: str | None = None
    if content_type in INLINE_IMAGE_TYPES:
        try:
            upload.file.seek(0)
            thumbnail = await asyncio.to_thread(make_thumbnail, upload.file)
            thumbnail_key, _ = await services.files.save(_one_chunk(thumbnail.data), limit)
        except InvalidInput as refused:
            if refused.code != PICTURE_UNREADABLE:
                # A picture refused (too many pixels) leaves nothing stored.
                await services.files.delete(key)
                raise
            # Not the picture it claims to be: kept as a file to download, never shown.
            content_type = "application/octet-stream"
        except BaseException:
            await services.files.delete(key)
            raise
    async with services.db.transaction() as uow:
        attachment = Attachment(
            uploader_employee_id=employee_id,
            uploader_client_id=client_id,
            file_name=file_name,
            content_type=content_type[:120] or "application/octet-stream",
            size=size,
            storage_key=key,
            thumbnail_key=thumbnail_key,
            width=thumbnail.width if thumbnail else None,
            height=thumbnail.height if thumbnail else None,
        )
        uow.session.add(attachment)
        await uow.session.flush()
        return attachment_read(attachment)


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def file_too_large(limit_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is too large: the limit is {_readable_size(limit_bytes)}.",
        code="file_too_large",
        params={"limit_bytes": limit_bytes},
    )


def _readable_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def _clean_file_name(name: str) -> str:
    # Only the last path segment, without control characters: a name is shown, never used as a path.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return (name or "file")[:255]
