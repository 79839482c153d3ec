"""messengers: events received from messengers (once each; the client's last message), the
WhatsApp templates employees chose, and the pieces WhatsApp took

Revision ID: 0013_messengers
Revises: 0012_report_facts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import impserver.core.db

revision: str = "0013_messengers"
down_revision: str | None = "0012_report_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_template_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("client_message_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("created_at", impserver.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_whatsapp_template_sends_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_template_sends")),
        sa.UniqueConstraint(
            "client_message_id", name=op.f("uq_whatsapp_template_sends_client_message_id")
        ),
    )
    op.create_table(
        "channel_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("sent_at", impserver.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", impserver.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_channel_receipts_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_channel_receipts_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_receipts")),
        sa.UniqueConstraint("resource_id", "key", name=op.f("uq_channel_receipts_resource_id")),
    )
    with op.batch_alter_table("channel_receipts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_channel_receipts_client_id_sent_at", ["client_id", "sent_at"], unique=False
        )

    op.create_table(
        "whatsapp_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("wamid", sa.String(length=128), nullable=False),
        sa.Column("created_at", impserver.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_whatsapp_sent_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_whatsapp_sent_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_sent")),
        sa.UniqueConstraint("message_id", "part", name=op.f("uq_whatsapp_sent_message_id")),
    )
    with op.batch_alter_table("whatsapp_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_sent_wamid"), ["wamid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_sent_wamid"))

    op.drop_table("whatsapp_sent")
    with op.batch_alter_table("channel_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_receipts_client_id_sent_at")

    op.drop_table("channel_receipts")
    op.drop_table("whatsapp_template_sends")
