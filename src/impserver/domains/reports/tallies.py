"""Tallies of the requests by UTC day (and calendar month), so that a report of a quarter or a
year sums a few hundred thousand small rows instead of sorting a million durations.

What a day holds (see ``models.ReportTally``), per resource:
- of the requests created that day: ``created``; ``created_hour`` (bucket: the UTC hour);
  histograms of ``first_response`` and ``queue_wait``;
- of those closed that day: ``closed``, ``missed``, ``score`` (bucket: 1–5), a histogram of
  ``resolution``; and per employee who closed them: ``handled``, ``score``, ``resolution``,
  and ``first_response`` where they also answered first.

Durations are counted in log-scale buckets 10% wide: a median or 90th percentile read from a
histogram is the geometric middle of its bucket, within 5% of the exact value (within half a
second below one second). Counts, scores and averages are exact.

The roll-up keeps them: database triggers mark the UTC days whose requests changed
(``report_changes``), and ``roll_up`` tallies those days again, then their months. A report
counts the days still marked, and the partial days at the edges of its period, straight from
the requests, so it is exact to the last change whatever the roll-up's delay.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, func, insert, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from impserver.domains.ratings.models import Rating
from impserver.domains.reports.durations import seconds_between
from impserver.domains.reports.models import (
    SPAN_DAY,
    SPAN_HOURS,
    SPAN_MONTH,
    SPAN_YEAR,
    ReportChange,
    ReportTally,
)
from impserver.domains.requests.models import ClientRequest
from impserver.services import Services

# Histogram buckets: 0 holds [0, 1 s); bucket b ≥ 1 holds [RATIO^(b-1), RATIO^b) seconds.
RATIO = 1.1
_LOG_RATIO = math.log(RATIO)
# Any fixed number: the PostgreSQL advisory lock of the roll-up, one instance at a time.
_ROLL_UP_LOCK = 7_240_017
# Days tallied per transaction: short transactions, and progress kept if an instance stops.
DAYS_PER_TRANSACTION = 4

CREATED_HOUR = "created_hour"
# (employee or None for the team, figure, bucket) -> how many requests.
TallyKey = tuple[int | None, str, int]


def bucket_of(seconds: float) -> int:
    if seconds < 1:
        return 0
    return 1 + int(math.log(seconds) / _LOG_RATIO)


def bucket_middle(bucket: int) -> float:
    """The value a bucket stands for: its geometric middle (0.5 s for the first)."""
    if bucket == 0:
        return 0.5
    return float(RATIO ** (bucket - 0.5))


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Ranges:
    """Half-open UTC ranges [start, end), in order and not touching."""

    spans: tuple[tuple[datetime, datetime], ...]

    @classmethod
    def of(cls, spans: Iterable[tuple[datetime, datetime]]) -> Ranges:
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(s for s in spans if s[0] < s[1]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return cls(tuple(merged))

    def holding(self, column: QueryableAttribute[datetime | None]) -> ColumnElement[bool]:
        return or_(*(and_(column >= start, column < end) for start, end in self.spans))


async def tally_requests(
    session: AsyncSession, ranges: Ranges, scope: Sequence[ColumnElement[bool]]
) -> dict[int, Counter[TallyKey]]:
    """The tallies of the requests in ``scope`` created, and closed, within ``ranges``, per
    resource, worked out here from the requests' rows."""
    found: defaultdict[int, Counter[TallyKey]] = defaultdict(Counter)
    if not ranges.spans:
        return found
    # Durations worked out by the database: no moment travels as a date and time.
    first_response = seconds_between(ClientRequest.first_response_at, ClientRequest.created_at)
    created = await session.execute(
        select(
            ClientRequest.resource_id,
            ClientRequest.created_at,
            first_response,
            seconds_between(
                ClientRequest.first_assigned_at,
                func.coalesce(ClientRequest.queued_at, ClientRequest.created_at),
            ),
        ).where(*scope, ranges.holding(ClientRequest.created_at))
    )
    for resource_id, created_at, answered_after, waited in created:
        tally = found[resource_id]
        tally[None, "created", 0] += 1
        tally[None, CREATED_HOUR, created_at.astimezone(UTC).hour] += 1
        if answered_after is not None:
            tally[None, "first_response", bucket_of(answered_after)] += 1
        if waited is not None:
            tally[None, "queue_wait", bucket_of(waited)] += 1
    closed = await session.execute(
        select(
            ClientRequest.resource_id,
            seconds_between(ClientRequest.closed_at, ClientRequest.created_at),
            first_response,
            ClientRequest.first_responder_id,
            ClientRequest.closed_by_id,
            # Looked up per request (not joined): a join makes PostgreSQL read every rating.
            select(Rating.score).where(Rating.request_id == ClientRequest.id).scalar_subquery(),
        ).where(*scope, ranges.holding(ClientRequest.closed_at))
    )
    for resource_id, resolved_after, answered_after, responder, closer, score in closed:
        tally = found[resource_id]
        resolution = bucket_of(resolved_after or 0.0)
        tally[None, "closed", 0] += 1
        tally[None, "resolution", resolution] += 1
        if answered_after is None:
            tally[None, "missed", 0] += 1
        if score is not None:
            tally[None, "score", score] += 1
        if closer is None:
            continue
        tally[closer, "handled", 0] += 1
        tally[closer, "resolution", resolution] += 1
        if score is not None:
            tally[closer, "score", score] += 1
        if responder == closer and answered_after is not None:
            tally[closer, "first_response", bucket_of(answered_after)] += 1
    return found


async def changed_days(session: AsyncSession, first: date, last: date) -> set[date]:
    """The days from ``first`` to ``last`` (inclusive) whose tallies wait for the roll-up."""
    return set(
        await session.scalars(
            select(ReportChange.day).where(ReportChange.day.between(first, last)).distinct()
        )
    )


async def roll_up(services: Services, days_per_transaction: int = DAYS_PER_TRANSACTION) -> int:
    """Tally again some of the days marked as changed, and their months. Returns how many
    days were tallied (0: none waits, or another instance is at it)."""
    async with services.db.transaction() as uow:
        session = uow.session
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for the whole transaction: the marks cleared below are exactly the
            # ones whose changes the requests read here already show; a mark written by a
            # transaction still running stays for the next round.
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            if not await session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ROLL_UP_LOCK}
            ):
                return 0
        days = sorted(
            await session.scalars(
                select(ReportChange.day)
                .distinct()
                .order_by(ReportChange.day)
                .limit(days_per_transaction)
            )
        )
        if not days:
            return 0
        await session.execute(
            delete(ReportTally).where(
                ReportTally.span.in_([SPAN_DAY, SPAN_HOURS]), ReportTally.span_start.in_(days)
            )
        )
        for day in days:
            ranges = Ranges.of([(day_start(day), day_start(day + timedelta(days=1)))])
            rows = [
                {
                    "span": SPAN_HOURS if figure == CREATED_HOUR else SPAN_DAY,
                    "span_start": day,
                    "resource_id": resource_id,
                    "employee_id": employee_id,
                    "figure": figure,
                    "bucket": bucket,
                    "count": count,
                }
                for resource_id, tally in (await tally_requests(session, ranges, [])).items()
                for (employee_id, figure, bucket), count in tally.items()
            ]
            if rows:
                await session.execute(insert(ReportTally), rows)
        for month in sorted({month_of(day) for day in days}):
            await _sum_span(session, SPAN_MONTH, month, SPAN_DAY, next_month(month))
        for year in sorted({day.replace(month=1, day=1) for day in days}):
            await _sum_span(session, SPAN_YEAR, year, SPAN_MONTH, year.replace(year=year.year + 1))
        await session.execute(delete(ReportChange).where(ReportChange.day.in_(days)))
        return len(days)


async def _sum_span(session: AsyncSession, span: str, start: date, parts: str, end: date) -> None:
    """A month's tallies, the sums of its days'; or a year's, of its months'."""
    await session.execute(
        delete(ReportTally).where(ReportTally.span == span, ReportTally.span_start == start)
    )
    summed = (
        select(
            literal(span),
            literal(start),
            ReportTally.resource_id,
            ReportTally.employee_id,
            ReportTally.figure,
            ReportTally.bucket,
            func.sum(ReportTally.count),
        )
        .where(
            ReportTally.span == parts,
            ReportTally.span_start >= start,
            ReportTally.span_start < end,
        )
        .group_by(
            ReportTally.resource_id, ReportTally.employee_id, ReportTally.figure, ReportTally.bucket
        )
    )
    await session.execute(
        insert(ReportTally).from_select(
            [
                ReportTally.span,
                ReportTally.span_start,
                ReportTally.resource_id,
                ReportTally.employee_id,
                ReportTally.figure,
                ReportTally.bucket,
                ReportTally.count,
            ],
            summed,
        )
    )
