from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base


class ApiToken(Base):
    """An access token of the public API, made by an administrator for an integration (a CRM,
    a shop). Only a digest of the secret is kept: it is shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # sha256 of the secret, hex: what a call's bearer token is looked up by.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret's first characters, so that a token can be recognised in the list.
    prefix: Mapped[str] = mapped_column(String(16))
    can_read: Mapped[bool] = mapped_column(default=True)
    can_write: Mapped[bool] = mapped_column(default=False)
    # Bound to one resource (site or bot): it sees and changes only that resource's requests
    # and clients. None: every resource.
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
