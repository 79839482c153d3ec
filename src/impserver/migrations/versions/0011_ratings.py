"""ratings: clients rate closed requests; resources choose whether to ask

Revision ID: 0011_ratings
Revises: 0010_mentions_replies_thumbnails
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from impserver.core.db import UTCDateTime

revision: str = "0011_ratings"
down_revision: str | None = "0010_mentions_replies_thumbnails"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(
            sa.Column("rating_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("rating_question", sa.String(length=300), nullable=False, server_default="")
        )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("requests.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "client_id",
            sa.Integer(),
            sa.ForeignKey("clients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("asked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment_until", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ratings_client_id", "ratings", ["client_id"])


def downgrade() -> None:
    op.drop_table("ratings")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("rating_question")
        batch.drop_column("rating_enabled")
