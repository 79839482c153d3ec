"""What long-period reports read instead of every request: per-day, per-month and per-year
tallies, kept from the requests by the roll-up (``tallies.py``).

A tally row counts requests of one resource in one span (a UTC day; a calendar month summed
from its days; a year summed from its months) under one figure: a plain count (bucket 0), a
score (bucket 1–5), an hour of the UTC day (span ``hours``), or one bucket of a duration
histogram. Rows with an employee are that employee's share of the requests they closed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from impserver.core.db import Base

SPAN_DAY = "day"
SPAN_MONTH = "month"
SPAN_YEAR = "year"
# One UTC day's requests created, by the hour of the day (the bucket): a report places them in
# its own time zone.
SPAN_HOURS = "hours"


class ReportTally(Base):
    __tablename__ = "report_tallies"
    __table_args__ = (
        Index("ix_report_tallies_span_span_start", "span", "span_start", "resource_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    span: Mapped[str] = mapped_column(String(5))
    # The UTC day, or the first day of the month or year.
    span_start: Mapped[date]
    # Plain numbers, no foreign keys: the tallies are derived and rebuilt from the requests.
    resource_id: Mapped[int]
    employee_id: Mapped[int | None] = mapped_column(default=None)
    figure: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[int] = mapped_column(SmallInteger)
    count: Mapped[int]


class ReportChange(Base):
    """A UTC day whose tallies no longer match its requests: written by database triggers on
    ``requests`` and ``ratings`` (so no writer, ORM, set-based or driver, can forget it), and
    cleared by the roll-up once the day is tallied again. Until then reports count that day
    from the requests themselves."""

    __tablename__ = "report_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
