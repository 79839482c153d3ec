"""report tallies: per-day and per-month tallies of the requests for long-period reports, the
days waiting to be tallied again, and the triggers that mark them

Revision ID: 0016_report_tallies
Revises: 0015_webhooks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_report_tallies"
down_revision: str | None = "0015_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns a report reads from a request: a change to any of them changes its day's tallies.
# (Not the queue: tallies are per resource, and a report of one queue counts its requests.)
REPORTED = [
    "created_at",
    "closed_at",
    "resource_id",
    "queued_at",
    "first_assigned_at",
    "first_response_at",
    "first_responder_id",
    "closed_by_id",
]

POSTGRES_TRIGGERS = [
    """
CREATE FUNCTION report_request_days_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO report_changes (day) VALUES ((OLD.created_at AT TIME ZONE 'UTC')::date);
    IF OLD.closed_at IS NOT NULL THEN
      INSERT INTO report_changes (day) VALUES ((OLD.closed_at AT TIME ZONE 'UTC')::date);
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF TG_OP = 'INSERT' OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
      INSERT INTO report_changes (day) VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date);
    END IF;
    IF NEW.closed_at IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.closed_at IS DISTINCT FROM
                                      OLD.closed_at) THEN
      INSERT INTO report_changes (day) VALUES ((NEW.closed_at AT TIME ZONE 'UTC')::date);
    END IF;
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER report_requests_inserted AFTER INSERT OR DELETE ON requests
  FOR EACH ROW EXECUTE FUNCTION report_request_days_changed()""",
    f"""CREATE TRIGGER report_requests_updated AFTER UPDATE ON requests FOR EACH ROW
  WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in REPORTED)})
  EXECUTE FUNCTION report_request_days_changed()""",
    """CREATE FUNCTION report_rating_day_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A score counts on the day its request closed.
  INSERT INTO report_changes (day)
  SELECT (closed_at AT TIME ZONE 'UTC')::date FROM requests
  WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.request_id ELSE NEW.request_id END)
    AND closed_at IS NOT NULL;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER report_ratings_scored AFTER INSERT OR DELETE ON ratings
  FOR EACH ROW EXECUTE FUNCTION report_rating_day_changed()""",
    """CREATE TRIGGER report_ratings_rescored AFTER UPDATE ON ratings FOR EACH ROW
  WHEN (OLD.score IS DISTINCT FROM NEW.score OR OLD.request_id IS DISTINCT FROM NEW.request_id)
  EXECUTE FUNCTION report_rating_day_changed()""",
]

# SQLite keeps UTC moments as text ("2026-01-05 10:00:00…"): date() is their UTC day. Marking a
# day twice is harmless: the roll-up reads the distinct days.
_SQLITE_DAYS = {
    "NEW": "SELECT date(NEW.created_at) UNION SELECT date(NEW.closed_at) "
    "WHERE NEW.closed_at IS NOT NULL",
    "OLD": "SELECT date(OLD.created_at) UNION SELECT date(OLD.closed_at) "
    "WHERE OLD.closed_at IS NOT NULL",
}


def _sqlite_rating_days(row: str) -> str:
    return (
        f"INSERT INTO report_changes (day) SELECT date(closed_at) FROM requests "
        f"WHERE id = {row}.request_id AND closed_at IS NOT NULL;"
    )


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER report_requests_inserted AFTER INSERT ON requests BEGIN
      INSERT INTO report_changes (day) {_SQLITE_DAYS["NEW"]}; END""",
    f"""CREATE TRIGGER report_requests_deleted AFTER DELETE ON requests BEGIN
      INSERT INTO report_changes (day) {_SQLITE_DAYS["OLD"]}; END""",
    f"""CREATE TRIGGER report_requests_updated AFTER UPDATE ON requests
      WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in REPORTED)} BEGIN
      INSERT INTO report_changes (day) {_SQLITE_DAYS["OLD"]};
      INSERT INTO report_changes (day) {_SQLITE_DAYS["NEW"]}; END""",
    f"""CREATE TRIGGER report_ratings_scored AFTER INSERT ON ratings BEGIN
      {_sqlite_rating_days("NEW")} END""",
    f"""CREATE TRIGGER report_ratings_unscored AFTER DELETE ON ratings BEGIN
      {_sqlite_rating_days("OLD")} END""",
    f"""CREATE TRIGGER report_ratings_rescored AFTER UPDATE ON ratings
      WHEN OLD.score IS NOT NEW.score OR OLD.request_id IS NOT NEW.request_id BEGIN
      {_sqlite_rating_days("NEW")} END""",
]
SQLITE_TRIGGER_NAMES = [
    "report_requests_inserted",
    "report_requests_deleted",
    "report_requests_updated",
    "report_ratings_scored",
    "report_ratings_unscored",
    "report_ratings_rescored",
]

# The backfill: every day that has requests is to be tallied; the roll-up does it in the
# background, and until it has, reports count those days from the requests (as before).
BACKFILL = """
INSERT INTO report_changes (day)
SELECT DISTINCT day FROM (
  SELECT {day_of_created} AS day FROM requests
  UNION SELECT {day_of_closed} FROM requests WHERE closed_at IS NOT NULL
) days
"""


def upgrade() -> None:
    op.create_table(
        "report_tallies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("span", sa.String(length=5), nullable=False),
        sa.Column("span_start", sa.Date(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("figure", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_report_tallies_span_span_start",
        "report_tallies",
        ["span", "span_start", "resource_id"],
    )
    op.create_table(
        "report_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
    )
    op.create_index("ix_report_changes_day", "report_changes", ["day"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)
        op.execute(
            BACKFILL.format(
                day_of_created="(created_at AT TIME ZONE 'UTC')::date",
                day_of_closed="(closed_at AT TIME ZONE 'UTC')::date",
            )
        )
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute(
            BACKFILL.format(day_of_created="date(created_at)", day_of_closed="date(closed_at)")
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_ratings_rescored ON ratings")
        op.execute("DROP TRIGGER report_ratings_scored ON ratings")
        op.execute("DROP TRIGGER report_requests_updated ON requests")
        op.execute("DROP TRIGGER report_requests_inserted ON requests")
        op.execute("DROP FUNCTION report_rating_day_changed()")
        op.execute("DROP FUNCTION report_request_days_changed()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index("ix_report_changes_day", "report_changes")
    op.drop_table("report_changes")
    op.drop_index("ix_report_tallies_span_span_start", "report_tallies")
    op.drop_table("report_tallies")
