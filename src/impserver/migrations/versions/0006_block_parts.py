"""block parts: what a block covers (visitor, network address, contacts) and until when

Revision ID: 0006_block_parts
Revises: 0005_block_reason
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from impserver.core.db import UTCDateTime

revision: str = "0006_block_parts"
down_revision: str | None = "0005_block_reason"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "block_parts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("resource_id", sa.Integer(), sa.ForeignKey("resources.id"), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=True),
        sa.Column("lifted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=True),
        sa.Column("refused", sa.Integer(), nullable=False),
    )
    op.create_index("ix_block_parts_lookup", "block_parts", ["resource_id", "part", "value"])
    op.create_index("ix_block_parts_client_id", "block_parts", ["client_id"])
    # A client blocked before blocks had parts keeps being blocked: as their visitor part.
    op.execute(
        "INSERT INTO block_parts (resource_id, client_id, part, value, until, reason, created_at,"
        " created_by_id, refused) SELECT resource_id, id, 'visitor', '', NULL, blocked_reason,"
        " COALESCE(blocked_at, CURRENT_TIMESTAMP), blocked_by_id, 0 FROM clients"
        " WHERE is_blocked"
    )
    with op.batch_alter_table("clients") as batch:
        batch.add_column(
            sa.Column("last_address", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("requests") as batch:
        batch.add_column(
            sa.Column(
                "address_blocked_before", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("address_blocked_before")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("last_address")
    op.drop_index("ix_block_parts_client_id", table_name="block_parts")
    op.drop_index("ix_block_parts_lookup", table_name="block_parts")
    op.drop_table("block_parts")
