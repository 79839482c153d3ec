from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

ROLE_ADMIN = "admin"
ROLE_EMPLOYEE = "employee"
ROLE_SUPERVISOR = "supervisor"
# Where an employee's photo is served to anyone who has its address (accounts/api.py).
AVATAR_PATH = "/api/avatars/"


def avatar_url_of(avatar_key: str | None) -> str | None:
    return f"{AVATAR_PATH}{avatar_key}" if avatar_key else None


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case so that logins are unique regardless of case.
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=ROLE_EMPLOYEE)
    is_active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(8), default="ru")
    theme: Mapped[str] = mapped_column(String(8), default="light")
    dnd_until: Mapped[datetime | None] = mapped_column(default=None)
    # The storage key of the employee's photo: random, and new with every photo, so its address
    # can be public and cached for good.
    avatar_key: Mapped[str | None] = mapped_column(String(255), default=None, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def avatar_url(self) -> str | None:
        return avatar_url_of(self.avatar_key)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_supervisor(self) -> bool:
        return self.role == ROLE_SUPERVISOR


class EmployeeSession(Base):
    __tablename__ = "employee_sessions"

    # SHA-256 of the cookie token: a leaked database does not hand out live sessions.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
