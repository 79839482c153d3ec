"""report facts: each request's milestones on its row; indexes for periods, participants and
client search

Revision ID: 0012_report_facts
Revises: 0011_ratings
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from impserver.core.db import UTCDateTime

revision: str = "0012_report_facts"
down_revision: str | None = "0011_ratings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIOD_INDEXES = {
    "ix_requests_queue_id_created_at": ["queue_id", "created_at"],
    "ix_requests_resource_id_created_at": ["resource_id", "created_at"],
    "ix_requests_created_at": ["created_at"],
    "ix_requests_closed_at": ["closed_at"],
}
HISTORY_INDEXES = {
    "ix_request_transitions_actor_employee_id": ["actor_employee_id"],
    "ix_request_transitions_target_employee_id": ["target_employee_id"],
}

# The milestones of the requests already there, read from their history.
BACKFILL = """
UPDATE requests SET
  queued_at = coalesce((
    SELECT min(t.created_at) FROM request_transitions t
    WHERE t.request_id = requests.id AND t.kind IN ('topic_chosen', 'default_queue')),
    -- Queued without a transition: straight to the client's own or the only queue, at once.
    CASE WHEN requests.status <> 'choosing' THEN requests.created_at END),
  first_assigned_at = (
    SELECT min(t.created_at) FROM request_transitions t
    WHERE t.request_id = requests.id AND t.kind IN ('accepted', 'auto_assigned')),
  closed_by_id = CASE WHEN requests.status = 'closed' THEN (
    SELECT t.actor_employee_id FROM request_transitions t
    WHERE t.request_id = requests.id AND t.kind = 'closed'
    ORDER BY t.id DESC LIMIT 1) END,
  first_response_at = (
    SELECT min(m.created_at) FROM messages m
    WHERE m.room_id = requests.room_id AND m.kind = 'text'
      AND m.author_employee_id IS NOT NULL),
  first_responder_id = (
    SELECT m.author_employee_id FROM messages m
    WHERE m.room_id = requests.room_id AND m.kind = 'text'
      AND m.author_employee_id IS NOT NULL
    ORDER BY m.created_at, m.id LIMIT 1)
"""


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("queued_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_assigned_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_response_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_responder_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_requests_first_responder_id_employees", "employees", ["first_responder_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_requests_closed_by_id_employees", "employees", ["closed_by_id"], ["id"]
        )
    op.execute(BACKFILL)
    for name, columns in PERIOD_INDEXES.items():
        op.create_index(name, "requests", columns)
    for name, columns in HISTORY_INDEXES.items():
        op.create_index(name, "request_transitions", columns)
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL (contrib); it makes "any part of a name" searchable.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_clients_display_name_trgm",
            "clients",
            ["display_name"],
            postgresql_using="gin",
            postgresql_ops={"display_name": "gin_trgm_ops"},
        )
        op.create_index(
            "ix_contacts_value_trgm",
            "contacts",
            ["value"],
            postgresql_using="gin",
            postgresql_ops={"value": "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_contacts_value_trgm", "contacts")
        op.drop_index("ix_clients_display_name_trgm", "clients")
    for name in HISTORY_INDEXES:
        op.drop_index(name, "request_transitions")
    for name in PERIOD_INDEXES:
        op.drop_index(name, "requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint("fk_requests_closed_by_id_employees", type_="foreignkey")
        batch.drop_constraint("fk_requests_first_responder_id_employees", type_="foreignkey")
        batch.drop_column("closed_by_id")
        batch.drop_column("first_responder_id")
        batch.drop_column("first_response_at")
        batch.drop_column("first_assigned_at")
        batch.drop_column("queued_at")
