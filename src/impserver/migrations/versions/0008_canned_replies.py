"""canned replies: personal and shared texts inserted by a short code

Revision ID: 0008_canned_replies
Revises: 0007_routing
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from impserver.core.db import UTCDateTime

revision: str = "0008_canned_replies"
down_revision: str | None = "0007_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column(
            "owner_employee_id",
            sa.Integer(),
            sa.ForeignKey("employees.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "resource_id",
            sa.Integer(),
            sa.ForeignKey("resources.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_canned_replies_owner_employee_id", "canned_replies", ["owner_employee_id"])
    op.create_index(
        "ux_canned_replies_scope_code", "canned_replies", ["scope", "code"], unique=True
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
