"""employee avatars: the storage key of an employee's photo, shown on their replies

Revision ID: 0021_employee_avatars
Revises: 0020_client_calls
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_employee_avatars"
down_revision: str | None = "0020_client_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("employees") as batch:
        batch.add_column(sa.Column("avatar_key", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(batch.f("uq_employees_avatar_key"), ["avatar_key"])


def downgrade() -> None:
    with op.batch_alter_table("employees") as batch:
        batch.drop_constraint(batch.f("uq_employees_avatar_key"), type_="unique")
        batch.drop_column("avatar_key")
