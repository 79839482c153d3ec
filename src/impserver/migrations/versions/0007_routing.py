"""routing: employee availability and capacity, queue routing modes, replies owed to clients

Revision ID: 0007_routing
Revises: 0006_block_parts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from impserver.core.db import UTCDateTime

revision: str = "0007_routing"
down_revision: str | None = "0006_block_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "employee_availability",
        sa.Column(
            "employee_id",
            sa.Integer(),
            sa.ForeignKey("employees.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("chosen_by_hand", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("last_assigned_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "queue_routing",
        sa.Column(
            "queue_id",
            sa.Integer(),
            sa.ForeignKey("queues.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("reassign_after_minutes", sa.Integer(), nullable=True),
        sa.Column("on_offline", sa.String(length=8), nullable=False),
        sa.Column("wait_amber_minutes", sa.Integer(), nullable=False),
        sa.Column("wait_red_minutes", sa.Integer(), nullable=False),
    )
    op.create_table(
        "business_hours",
        sa.Column(
            "resource_id",
            sa.Integer(),
            sa.ForeignKey("resources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("week", sa.JSON(), nullable=False),
        sa.Column("days_off", sa.JSON(), nullable=False),
    )
    op.create_table(
        "routing_defaults",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("default_capacity", sa.Integer(), nullable=True),
    )
    with op.batch_alter_table("requests") as batch:
        batch.add_column(
            sa.Column("awaiting_reply_since", UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("outside_hours", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("outside_hours")
        batch.drop_column("awaiting_reply_since")
    op.drop_table("routing_defaults")
    op.drop_table("business_hours")
    op.drop_table("queue_routing")
    op.drop_table("employee_availability")
