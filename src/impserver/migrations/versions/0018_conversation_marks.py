"""conversation marks: whether employees see a client's message as it is typed (per resource),
and how far a client has read the conversation

Revision ID: 0018_conversation_marks
Revises: 0017_widget_identity
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_conversation_marks"
down_revision: str | None = "0017_widget_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(
            sa.Column("typing_preview", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("clients") as batch:
        batch.add_column(
            sa.Column("read_message_id", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("read_message_id")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("typing_preview")
