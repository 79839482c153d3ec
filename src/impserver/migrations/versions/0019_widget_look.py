"""widget look: how a website's chat looks (colour, side, button label, title, greeting,
language), kept with the website

Revision ID: 0019_widget_look
Revises: 0018_conversation_marks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_widget_look"
down_revision: str | None = "0018_conversation_marks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("widget_look", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("widget_look")
