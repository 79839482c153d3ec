from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

KIND_WEBSITE = "website"
KIND_TELEGRAM = "telegram"
KIND_VK = "vk"
KIND_WHATSAPP = "whatsapp"


class Resource(Base):
    """One client entry point: a website with the widget, or a messenger bot."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Random public identifier the widget embed code carries.
    public_key: Mapped[str] = mapped_column(String(40), unique=True)
    topic_choice_seconds: Mapped[int] = mapped_column(default=60)
    # Satisfaction: whether a client is asked to rate a request once it is closed, and in what
    # words (empty: the standard question in the client's language).
    rating_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    rating_question: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Employees see what a client types before it is sent (off: only that they are typing).
    typing_preview: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Websites: whether the widget offers the client to call the employee serving their
    # request, by voice and by video. Off until an administrator turns them on.
    client_voice_calls: Mapped[bool] = mapped_column(default=False, server_default=false())
    client_video_calls: Mapped[bool] = mapped_column(default=False, server_default=false())
    site_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Websites: the key of the HMAC with which the site vouches for its logged-in users
    # (IMP.setUser's hash). Shown to administrators only; regenerating it voids every hash made
    # with the old one.
    identity_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # Websites: how the chat looks on the site (``schemas.WidgetLook``; empty: as it comes).
    widget_look: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # Channel-specific configuration (a bot's token and webhook secret, …).
    channel_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    offered_as_topic: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Queues are archived, not deleted: requests keep pointing at where they were.
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class QueueAccess(Base):
    """Which queues an employee serves."""

    __tablename__ = "queue_access"

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Group(Base):
    """A named set of employees of one resource: the target of "transfer to specialist"."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("resource_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True, index=True
    )
