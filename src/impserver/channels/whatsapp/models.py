from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base


class WhatsAppTemplateSend(Base):
    """A template an employee chose to write to a client past WhatsApp's 24-hour window.

    Written before the employee's message itself, under the id that message is sent with: the
    delivery worker, finding it, sends the template instead of the text (which WhatsApp would
    refuse), and the history shows the template's words.
    """

    __tablename__ = "whatsapp_template_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    client_message_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    # The values of the template body's {{1}}, {{2}}, …, in order.
    parameters: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WhatsAppSent(Base):
    """A piece of an employee's message that WhatsApp took, under the id WhatsApp gave it.

    A delivery tried again skips the pieces already sent (WhatsApp has no key that would make a
    repeated call harmless), and a failure WhatsApp reports later, by a status webhook, finds
    the message it belongs to.
    """

    __tablename__ = "whatsapp_sent"
    __table_args__ = (UniqueConstraint("message_id", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    part: Mapped[int]
    wamid: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
