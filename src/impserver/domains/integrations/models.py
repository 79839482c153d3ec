from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
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


# A delivery's states: waiting for its (next) attempt, taken by the receiver, given up.
DELIVERY_PENDING = "pending"
DELIVERY_DELIVERED = "delivered"
DELIVERY_FAILED = "failed"

# Why a webhook is off: an administrator turned it off, or its deliveries kept failing.
OFF_BY_ADMIN = "admin"
OFF_AFTER_FAILURES = "failures"


class Webhook(Base):
    """An address an administrator registered to be told of events (``CATALOGUE`` of
    ``core.integration_events``), each delivery signed with the hook's secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Deliveries are signed with it (HMAC-SHA256); the receiver holds a copy, so it is kept as
    # it is, shown to administrators only.
    secret: Mapped[str] = mapped_column(String(80))
    # Only this resource's events; None: every resource's.
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), default=None
    )
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # OFF_BY_ADMIN or OFF_AFTER_FAILURES while not enabled.
    disabled_reason: Mapped[str] = mapped_column(String(16), default="")
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    # Attempts that failed since the last one that succeeded.
    failures_in_a_row: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event owed to one webhook: written in the transaction of what happened, sent by the
    delivery loop, retried with back-off, kept as the hook's delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "due_at"),
        Index("ix_webhook_deliveries_log", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    # The event's id, the same in every hook's delivery of it: what a receiver deduplicates by.
    event_id: Mapped[str] = mapped_column(String(36))
    event: Mapped[str] = mapped_column(String(40))
    # The JSON body, fixed when the event happened: each attempt sends the same bytes.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DELIVERY_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    # The receiver's HTTP status at the last attempt (None: no answer).
    response_status: Mapped[int | None] = mapped_column(default=None)
    # Why the last attempt failed: a kind ("answered", "redirected", "timeout",
    # "address_forbidden", "unresolvable", "connection"), what the receiver or the network said,
    # and the two in an English sentence.
    error_kind: Mapped[str] = mapped_column(String(24), default="")
    error_detail: Mapped[str] = mapped_column(String(300), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")
