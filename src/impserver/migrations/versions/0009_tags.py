"""tags: labels administrators keep and employees put on requests

Revision ID: 0009_tags
Revises: 0008_canned_replies
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_tags"
down_revision: str | None = "0008_canned_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("folded_name", sa.String(length=40), nullable=False, unique=True),
        sa.Column("color", sa.String(length=7), nullable=False),
    )
    op.create_table(
        "request_tags",
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("requests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "tag_id",
            sa.Integer(),
            sa.ForeignKey("tags.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_request_tags_tag_id", "request_tags", ["tag_id"])


def downgrade() -> None:
    op.drop_table("request_tags")
    op.drop_table("tags")
