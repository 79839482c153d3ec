from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

ROOM_TEAM = "team"
ROOM_DIRECT = "direct"
ROOM_REQUEST = "request"


class Room(Base):
    """A message history with members: an employees' room or a client request's room."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=ROOM_TEAM)
    name: Mapped[str] = mapped_column(String(200), default="")
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_id: Mapped[int | None] = mapped_column(default=None)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class RoomMember(Base):
    __tablename__ = "room_members"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_read_message_id: Mapped[int] = mapped_column(default=0)


KIND_TEXT = "text"
KIND_NOTE = "note"
# What people write, as opposed to the history's system lines: what unread counters count.
WRITTEN_KINDS = (KIND_TEXT, KIND_NOTE)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # Idempotent sends: a retried message with the same client id is the same message.
        UniqueConstraint("room_id", "client_message_id"),
        Index("ix_messages_room_id_id", "room_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    author_employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), default=None)
    author_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), default=None)
    # text: written by a person; note: an employee's word to colleagues inside a request, never
    # shown to the client; system: a transition or call record shown in the history.
    kind: Mapped[str] = mapped_column(String(16), default=KIND_TEXT)
    body: Mapped[str] = mapped_column(Text, default="")
    # The body case-folded by Python, so that text search ignores case in every alphabet on
    # every database (SQLite's lower() and LIKE fold ASCII only). Empty once deleted.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    client_message_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The message this one answers, shown above it as a quote.
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    # Structured data of system messages and channel delivery state (e.g. Telegram failures).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


def search_text_of(body: str) -> str:
    return body.casefold()


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Uploaded first, then bound to the message it is sent with.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), default=None, index=True
    )
    uploader_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id"), default=None
    )
    uploader_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), default=None)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    # Images only: a small copy made on upload for the history, and the picture's size.
    thumbnail_key: Mapped[str | None] = mapped_column(String(255), default=None)
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
