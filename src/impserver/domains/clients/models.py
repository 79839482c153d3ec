from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.clock import utcnow
from impserver.core.db import Base, postgres_only


class Client(Base):
    """A person writing from the widget (one per browser) or from a messenger account."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("resource_id", "external_id"),
        # One client per person a site vouches for (IMP.setUser with a valid hash), whatever
        # browser or device they write from. Anonymous visitors have none (NULLs do not clash).
        Index("ix_clients_resource_id_verified_id", "resource_id", "verified_id", unique=True),
        # The archive finds clients by any part of their name (trigrams, PostgreSQL only).
        postgres_only(
            Index(
                "ix_clients_display_name_trgm",
                "display_name",
                postgresql_using="gin",
                postgresql_ops={"display_name": "gin_trgm_ops"},
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    # Widget visitors: a random id in a signed token. Messengers: the account id there.
    external_id: Mapped[str] = mapped_column(String(80))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    # Set when the client picked a topic themselves: later requests go straight there (W-5).
    preferred_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), default=None)
    is_blocked: Mapped[bool] = mapped_column(default=False)
    blocked_at: Mapped[datetime | None] = mapped_column(default=None)
    blocked_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), default=None)
    # Visitor tokens carry the generation they were issued in; raising it revokes every token
    # issued before (clients.actions.revoke_visitor_tokens).
    token_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # What the employee who blocked the client wrote down, for whoever reviews the block list.
    blocked_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # The network address the widget last came from (what an address block covers).
    last_address: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Last known environment: page URL, user agent, …
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The site's own id of the person, once a hash made with the site's identity secret proved
    # it (IMP.setUser): the key that joins their browsers and devices into this one client.
    verified_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # What the site's page said about the visitor without such proof (id, name, e-mail, phone):
    # shown to employees as the visitor's own word, never used to find or join anyone.
    unverified_identity: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    # Flat facts the site's page passed in (IMP.setAttributes): key → text, number or yes/no.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # An anonymous client joined into the verified client they proved to be: their requests
    # are there now, and their tokens no longer work.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The newest message of their conversation the client has seen (message ids only grow, so
    # one mark covers every request of theirs).
    read_message_id: Mapped[int] = mapped_column(default=0, server_default="0")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # … and by any part of a phone, address or e-mail.
        postgres_only(
            Index(
                "ix_contacts_value_trgm",
                "value",
                postgresql_using="gin",
                postgresql_ops={"value": "gin_trgm_ops"},
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    # Hidden contacts are no longer valid but stay listed for the record (C-1).
    is_hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
