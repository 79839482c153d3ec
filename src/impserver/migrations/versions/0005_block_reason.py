"""block reason: why an employee blocked a client, kept in the block list

Revision ID: 0005_block_reason
Revises: 0004_visitor_tokens
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_block_reason"
down_revision: str | None = "0004_visitor_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(
            sa.Column("blocked_reason", sa.String(length=500), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("blocked_reason")
