from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

DELIVERY_PENDING = "pending"
DELIVERY_SENT = "sent"
DELIVERY_FAILED = "failed"


class ChannelDelivery(Base):
    """A message owed to a client on a messenger: sent by a worker, retried, never silently lost."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (Index("ix_channel_deliveries_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=DELIVERY_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelReceipt(Base):
    """A client's message or button press that reached IMP from a messenger.

    Kept so that the same event is acted on once: a messenger sends again what it thinks was not
    received (for days, in WhatsApp's case), and a copy replayed by anyone later must not open a
    request after the first was closed. And it says when the client last wrote: WhatsApp lets a
    business write freely only within 24 hours of that.
    """

    __tablename__ = "channel_receipts"
    __table_args__ = (
        UniqueConstraint("resource_id", "key"),
        Index("ix_channel_receipts_client_id_sent_at", "client_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), default=None
    )
    # The messenger's own id of the event (a message id, a button press's id).
    key: Mapped[str] = mapped_column(String(100))
    # When the client sent it, by the messenger's clock.
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
