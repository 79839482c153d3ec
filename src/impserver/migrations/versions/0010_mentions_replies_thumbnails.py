"""mentions, replies to messages and image thumbnails

Revision ID: 0010_mentions_replies_thumbnails
Revises: 0009_tags
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from impserver.core.db import UTCDateTime

revision: str = "0010_mentions_replies_thumbnails"
down_revision: str | None = "0009_tags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reply_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_messages_reply_to_id_messages",
            "messages",
            ["reply_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("thumbnail_key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("height", sa.Integer(), nullable=True))
    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "employee_id",
            sa.Integer(),
            sa.ForeignKey("employees.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("message_id", "employee_id"),
    )
    op.create_index("ix_mentions_employee_id_id", "mentions", ["employee_id", "id"])


def downgrade() -> None:
    op.drop_table("mentions")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("height")
        batch.drop_column("width")
        batch.drop_column("thumbnail_key")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_reply_to_id_messages", type_="foreignkey")
        batch.drop_column("reply_to_id")
