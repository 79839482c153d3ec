from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

KINDS = ("voice", "video", "screen", "cobrowse")
# invited → (voice only: ringing, once the client allowed the call window) → accepted →
# connected → ended. Declines, timeouts, hang-ups and lost connections all end in "ended".
STATE_INVITED = "invited"
STATE_RINGING = "ringing"
STATE_ACCEPTED = "accepted"
STATE_CONNECTED = "connected"
STATE_ENDED = "ended"
ACTIVE_STATES = (STATE_INVITED, STATE_RINGING, STATE_ACCEPTED, STATE_CONNECTED)
# Who started the call. A client's call rings in the employee's workspace ("ringing") until
# they answer it (accepted) or decline it.
STARTED_BY_EMPLOYEE = "employee"
STARTED_BY_CLIENT = "client"
# The client's screen during a voice or video call, on the same connection: the employee asked
# for it, or it is shown (the client accepted, or offered it themselves).
SCREEN_ASKED = "asked"
SCREEN_ON = "on"


class Call(Base):
    """A voice or video call, or a screen share, between an employee and a widget client."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default=STATE_INVITED)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    started_by: Mapped[str] = mapped_column(
        String(8), default=STARTED_BY_EMPLOYEE, server_default=STARTED_BY_EMPLOYEE
    )
    screen: Mapped[str | None] = mapped_column(String(8), default=None)
    # Whether the client showed their screen at some point of the call (for its record).
    screen_shared: Mapped[bool] = mapped_column(default=False, server_default=false())
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Unanswered invitations end by themselves at this time.
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    connected_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
