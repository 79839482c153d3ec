"""messages.search_text: case-folded message text for search

Revision ID: 0002_rooms
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_rooms"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    # Fold existing messages the same way the application does (Python's str.casefold).
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer()),
        sa.column("body", sa.Text()),
        sa.column("search_text", sa.Text()),
        sa.column("deleted_at", sa.DateTime()),
    )
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.body)
            .where(messages.c.id > last_id)
            .where(messages.c.deleted_at.is_(None))
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for message_id, body in rows:
            connection.execute(
                messages.update()
                .where(messages.c.id == message_id)
                .values(search_text=(body or "").casefold())
            )
        last_id = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("search_text")
