from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

# An employee's availability. Only Online employees are given requests automatically.
STATUS_ONLINE = "online"
STATUS_AWAY = "away"
STATUS_OFFLINE = "offline"

# How a queue's waiting requests find an employee: "Принять" by hand, or given out by IMP.
MODE_MANUAL = "manual"
MODE_AUTOMATIC = "automatic"

# What happens to an employee's open requests of a queue when they go Offline.
ON_OFFLINE_KEEP = "keep"
ON_OFFLINE_RETURN = "return"

DEFAULT_WAIT_AMBER_MINUTES = 5
DEFAULT_WAIT_RED_MINUTES = 15


class Availability(Base):
    """An employee's status and what routing needs to know of them. No row: Offline."""

    __tablename__ = "employee_availability"

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(8), default=STATUS_OFFLINE)
    # A status chosen by hand stays; one set by IMP (idle, back, last tab gone) follows activity.
    chosen_by_hand: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a workspace tab of theirs was last known to be open (refreshed by the instance
    # holding its socket): long enough ago, and they are Offline.
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # The most open requests they hold at once; None: the default of routing_defaults.
    capacity: Mapped[int | None] = mapped_column(default=None)
    # For fair rotation: of equally busy employees, whoever was given a request longest ago.
    last_assigned_at: Mapped[datetime | None] = mapped_column(default=None)


class QueueRouting(Base):
    """How one queue's requests are routed. No row: Manual, nothing returned, no reassigning."""

    __tablename__ = "queue_routing"

    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16), default=MODE_MANUAL)
    # The assignee has not answered a waiting client for this long: the request goes back.
    reassign_after_minutes: Mapped[int | None] = mapped_column(default=None)
    on_offline: Mapped[str] = mapped_column(String(8), default=ON_OFFLINE_KEEP)
    # A client waiting this long (in the queue, or for a reply) shows amber on the cards, then red.
    wait_amber_minutes: Mapped[int] = mapped_column(default=DEFAULT_WAIT_AMBER_MINUTES)
    wait_red_minutes: Mapped[int] = mapped_column(default=DEFAULT_WAIT_RED_MINUTES)


class BusinessHours(Base):
    """When a website's or bot's team is at work. No row: always."""

    __tablename__ = "business_hours"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=False)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    # Seven lists (Monday first) of ["HH:MM", "HH:MM"] intervals; "24:00" ends a day.
    week: Mapped[list[list[list[str]]]] = mapped_column(JSON, default=list)
    # Dates ("YYYY-MM-DD") with no working time: holidays.
    days_off: Mapped[list[str]] = mapped_column(JSON, default=list)


class RoutingDefaults(Base):
    """Settings of routing as a whole: one row."""

    __tablename__ = "routing_defaults"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The most open requests an employee holds at once unless they have a value of their own;
    # None: no limit.
    default_capacity: Mapped[int | None] = mapped_column(default=None)
