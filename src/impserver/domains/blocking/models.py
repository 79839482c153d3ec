from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base

# What one row of a block covers.
PART_VISITOR = "visitor"  # the client record itself (their browser's tokens, their bot chat)
PART_ADDRESS = "address"  # the network the client wrote from: a /32, a /128 or an IPv6 /64
PART_CONTACT = "contact"  # an e-mail or phone the client gave ("email:…", "phone:…")
# Room for the verified identity a site vouches for, once the widget knows one.
PARTS = (PART_VISITOR, PART_ADDRESS, PART_CONTACT)


class BlockPart(Base):
    """One thing a block covers. A block of a client is the rows made together for them; each
    can be lifted on its own, and each lasts until its own ``until`` (None: for ever)."""

    __tablename__ = "block_parts"
    __table_args__ = (Index("ix_block_parts_lookup", "resource_id", "part", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    part: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255), default="")
    until: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), default=None)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), default=None)
    # How many new conversations this part has refused: all that is kept of a refused person.
    refused: Mapped[int] = mapped_column(default=0)
