from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

# choosing: the client may still pick a topic (W-2); waiting: in a queue; assigned: an employee
# is responsible; closed: done (Q-2b) or ended by blocking the client (Q-2a).
STATUS_CHOOSING = "choosing"
STATUS_WAITING = "waiting"
STATUS_ASSIGNED = "assigned"
STATUS_CLOSED = "closed"
OPEN_STATUSES = (STATUS_CHOOSING, STATUS_WAITING, STATUS_ASSIGNED)

# Transitions by which an employee first gets a request.
FIRST_ASSIGNED = ("accepted", "auto_assigned")


class ClientRequest(Base):
    """One client conversation from first message to closing ("обращение")."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_status_topic_due_at", "status", "topic_due_at"),
        Index("ix_requests_queue_id_status", "queue_id", "status"),
        # The archive and the reports read a period of one queue or resource, or of everything.
        Index("ix_requests_queue_id_created_at", "queue_id", "created_at"),
        Index("ix_requests_resource_id_created_at", "resource_id", "created_at"),
        Index("ix_requests_created_at", "created_at"),
        Index("ix_requests_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_CHOOSING)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), default=None)
    # The queue it was last taken from: where "return to queue" sends it (Q-2c).
    taken_from_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), default=None)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id"), default=None, index=True
    )
    topic_picked_by_client: Mapped[bool] = mapped_column(default=False)
    # When the topic choice runs out and the request goes to the default queue (W-3).
    topic_due_at: Mapped[datetime | None] = mapped_column(default=None)
    # The client's address had been blocked before (for someone else, or a block that ran out
    # or was lifted): a hint for the employee, not a refusal.
    address_blocked_before: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    waiting_since: Mapped[datetime | None] = mapped_column(default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The client's oldest message not yet answered by an employee: what "reassign on silence"
    # measures. None: nobody owes the client a reply.
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(default=None)
    # Written while the team was not at work (business hours): it waits for the morning.
    outside_hours: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Milestones kept as the request moves, so that reports over a year of requests read one
    # row per request instead of its whole history. Each is written once, when it first happens.
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    first_assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    # The first reply to the client (notes are no answer), and who wrote it.
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    first_responder_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), default=None)
    # Who closed it ("Закрыть"); None when it ended otherwise or is still open.
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), default=None)


class RequestTransition(Base):
    """The history of a request: every change of state, who made it and where it went."""

    __tablename__ = "request_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    # Indexed: the archive finds the requests an employee took part in through their history.
    actor_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id"), default=None, index=True
    )
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), default=None)
    target_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id"), default=None, index=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestDecline(Base):
    """An employee declined a waiting request: it is hidden from that employee only (Q-1)."""

    __tablename__ = "request_declines"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
