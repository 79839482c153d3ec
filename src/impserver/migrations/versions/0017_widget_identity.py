"""widget identity: each website's identity secret; a client's verified id, what the visitor
said of themselves unverified, the site's attributes, and which client an anonymous one joined

Revision ID: 0017_widget_identity
Revises: 0016_report_tallies
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_widget_identity"
down_revision: str | None = "0016_report_tallies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("identity_secret", sa.String(length=64), nullable=True))
    # Every existing website gets a secret of its own, as a new one does when created.
    resources = sa.table(
        "resources",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("identity_secret", sa.String()),
    )
    connection = op.get_bind()
    for (resource_id,) in connection.execute(
        sa.select(resources.c.id).where(resources.c.kind == "website")
    ):
        connection.execute(
            resources.update()
            .where(resources.c.id == resource_id)
            .values(identity_secret=secrets.token_hex(32))
        )

    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("verified_id", sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column("unverified_identity", sa.JSON(), nullable=False, server_default="{}")
        )
        batch.add_column(sa.Column("attributes", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_clients_merged_into_id_clients"), "clients", ["merged_into_id"], ["id"]
        )
        batch.create_index(
            "ix_clients_resource_id_verified_id", ["resource_id", "verified_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_index("ix_clients_resource_id_verified_id")
        batch.drop_constraint(op.f("fk_clients_merged_into_id_clients"), type_="foreignkey")
        batch.drop_column("merged_into_id")
        batch.drop_column("attributes")
        batch.drop_column("unverified_identity")
        batch.drop_column("verified_id")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("identity_secret")
