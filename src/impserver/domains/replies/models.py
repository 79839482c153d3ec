from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base


def personal_scope(employee_id: int) -> str:
    return f"employee:{employee_id}"


def shared_scope(resource_id: int | None) -> str:
    return "all" if resource_id is None else f"resource:{resource_id}"


class CannedReply(Base):
    """A text an employee inserts by its code. Personal ones belong to one employee; shared ones,
    kept by administrators, are offered to everyone or to those serving one resource."""

    __tablename__ = "canned_replies"
    # A code means one text in its scope ("employee:7", "all", "resource:3"): stored lowercase,
    # so "/Hello" and "/hello" cannot name two.
    __table_args__ = (Index("ux_canned_replies_scope_code", "scope", "code", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))
    owner_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), default=None, index=True
    )
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), default=None
    )
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
