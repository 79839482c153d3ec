from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base


class Mention(Base):
    """An employee named with "@" in a message they may read: theirs to see until read."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("message_id", "employee_id"),
        # The list and the unread count of one employee, newest first.
        Index("ix_mentions_employee_id_id", "employee_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
