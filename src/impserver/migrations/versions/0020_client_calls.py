"""client calls: a website may let its clients call (voice, video); who started each call;
the client's screen shown during a call

Revision ID: 0020_client_calls
Revises: 0019_widget_look
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_client_calls"
down_revision: str | None = "0019_widget_look"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(
            sa.Column("client_voice_calls", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("client_video_calls", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("calls") as batch:
        batch.add_column(
            sa.Column("started_by", sa.String(length=8), nullable=False, server_default="employee")
        )
        batch.add_column(sa.Column("screen", sa.String(length=8), nullable=True))
        batch.add_column(
            sa.Column("screen_shared", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("screen_shared")
        batch.drop_column("screen")
        batch.drop_column("started_by")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("client_video_calls")
        batch.drop_column("client_voice_calls")
