"""The team's figures for a period: volume, speed, quality, and who did what.

Definitions (what a team lead reads on the reports page):
- created: requests created in the period; closed: requests closed in it; missed: those closed
  in it without a word from an employee to the client.
- first response: from a request's creation to the first employee reply to the client.
- resolution: from creation to closing, for the requests closed in the period.
- time in the queue: from entering a queue (the topic chosen, or the default queue) to the
  first assignment, taken or automatic.
- ratings: the scores given to the requests closed in the period.
- by hour and day of week: requests created, in the time zone asked for.
Medians and 90th percentiles are of the requests that have the figure; durations in seconds.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Float, case, extract, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from impserver.core.errors import InvalidInput
from impserver.domains.accounts.models import Employee
from impserver.domains.ratings.models import Rating
from impserver.domains.reports.checks import check_known
from impserver.domains.reports.schemas import (
    MAX_RANGE_DAYS,
    Durations,
    EmployeeFigures,
    RatingFigures,
    ReportFilters,
    TeamReport,
)
from impserver.domains.reports.scope import ensure_resource_overseen
from impserver.domains.requests.models import ClientRequest
from impserver.domains.resources.models import Queue, Resource


class seconds_between(FunctionElement[float]):
    """Seconds from the second moment to the first, never below zero (clocks of different
    servers may disagree by a little)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_on_postgres(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    # Not GREATEST: it would turn a missing moment (NULL) into 0.
    seconds = f"EXTRACT(EPOCH FROM ({later}) - ({earlier}))"
    return f"CASE WHEN {seconds} < 0 THEN 0 ELSE {seconds} END"


@compiles(seconds_between, "sqlite")
def _seconds_on_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"MAX(0, (julianday({later}) - julianday({earlier})) * 86400.0)"


async def durations_by(
    session: AsyncSession,
    seconds: ColumnElement[float],
    where: Sequence[ColumnElement[bool]],
    group: ColumnElement[Any] | QueryableAttribute[Any] | None = None,
) -> dict[Hashable, Durations]:
    """How many requests have the figure, its median and nearest-rank 90th percentile, per
    ``group`` (or under the key None), worked out by the database: a year of requests never
    travels to the server. Ranks are counted with window functions, which both SQLite and
    PostgreSQL have: the median is the middle value (the mean of the two middle ones), the
    90th percentile the value at rank ceil(0.9 n)."""
    key = (group if group is not None else literal(None)).label("key")
    values = (
        select(key, seconds.label("value"))
        .select_from(ClientRequest)
        .where(*where, seconds.is_not(None))
        .subquery()
    )
    ranked = select(
        values.c.key,
        values.c.value,
        func.row_number().over(partition_by=values.c.key, order_by=values.c.value).label("rank"),
        func.count().over(partition_by=values.c.key).label("n"),
    ).subquery()
    rank, n, value = ranked.c.rank, ranked.c.n, ranked.c.value
    middle = or_(rank == (n + 1) // 2, rank == (n + 2) // 2)
    rows = await session.execute(
        select(
            ranked.c.key,
            func.max(n),
            func.avg(case((middle, value))),
            func.max(case((rank == (9 * n + 9) // 10, value))),
        ).group_by(ranked.c.key)
    )
    return {
        group_key: Durations(
            count=count, median_seconds=round(middle_value, 1), p90_seconds=round(p90, 1)
        )
        for group_key, count, middle_value, p90 in rows
    }


NO_DURATIONS = Durations(count=0, median_seconds=None, p90_seconds=None)


async def durations(
    session: AsyncSession, seconds: ColumnElement[float], where: Sequence[ColumnElement[bool]]
) -> Durations:
    return (await durations_by(session, seconds, where)).get(None, NO_DURATIONS)


def _period(filters: ReportFilters) -> tuple[datetime, datetime, ZoneInfo]:
    zone = ZoneInfo(filters.tz)
    start = datetime.combine(filters.date_from, time.min, zone).astimezone(UTC)
    end = (datetime.combine(filters.date_to, time.min, zone) + timedelta(days=1)).astimezone(UTC)
    return start, end, zone


def _scope(filters: ReportFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.resource_id:
        conditions.append(ClientRequest.resource_id == filters.resource_id)
    if filters.queue_id:
        conditions.append(ClientRequest.queue_id == filters.queue_id)
    return conditions


async def _check(session: AsyncSession, filters: ReportFilters) -> None:
    if filters.date_from > filters.date_to:
        raise InvalidInput(
            "date_from: the period starts after it ends.", code="report_dates_inverted"
        )
    if (filters.date_to - filters.date_from).days >= MAX_RANGE_DAYS:
        raise InvalidInput(
            f"The period is longer than {MAX_RANGE_DAYS} days; choose a shorter one.",
            code="report_range_too_long",
            params={"max_days": MAX_RANGE_DAYS},
        )
    try:
        ZoneInfo(filters.tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"tz: {filters.tz!r} is not a time zone.", code="report_timezone_unknown"
        ) from exc
    await check_known(
        session,
        filters,
        {"resource_id": Resource, "queue_id": Queue, "employee_id": Employee},
        code="report_filter_unknown",
    )


async def team_report(
    session: AsyncSession, filters: ReportFilters, allowed: set[int] | None = None
) -> TeamReport:
    """The figures, of the resources in ``allowed`` only when it is given (a supervisor's).

    Each request carries its own milestones (queued, first assigned, first answered and by
    whom, closed and by whom), so every figure is one aggregate over the requests of the
    period, read through the period indexes."""
    await _check(session, filters)
    await ensure_resource_overseen(session, allowed, filters.resource_id, filters.queue_id)
    start, end, zone = _period(filters)
    scope = _scope(filters)
    if allowed is not None:
        scope.append(ClientRequest.resource_id.in_(allowed))
    if filters.employee_id:
        # One person's share: the requests they closed, and those they answered first.
        scope.append(
            or_(
                ClientRequest.closed_by_id == filters.employee_id,
                ClientRequest.first_responder_id == filters.employee_id,
            )
        )
    created = [*scope, ClientRequest.created_at >= start, ClientRequest.created_at < end]
    closed = [*scope, ClientRequest.closed_at >= start, ClientRequest.closed_at < end]

    created_count = await session.scalar(select(func.count()).where(*created)) or 0
    closed_count, missed = (
        await session.execute(
            select(
                func.count(),
                func.count(case((ClientRequest.first_response_at.is_(None), 1))),
            ).where(*closed)
        )
    ).one()
    by_hour, by_weekday = await _by_hour_and_weekday(session, created, zone)
    return TeamReport(
        created=created_count,
        closed=closed_count,
        missed=missed,
        first_response=await durations(
            session,
            seconds_between(ClientRequest.first_response_at, ClientRequest.created_at),
            created,
        ),
        resolution=await durations(
            session, seconds_between(ClientRequest.closed_at, ClientRequest.created_at), closed
        ),
        queue_wait=await durations(
            session,
            seconds_between(
                ClientRequest.first_assigned_at,
                func.coalesce(ClientRequest.queued_at, ClientRequest.created_at),
            ),
            created,
        ),
        ratings=await _ratings(session, closed),
        employees=await _per_employee(session, closed),
        by_hour=by_hour,
        by_weekday=by_weekday,
    )


async def _ratings(session: AsyncSession, closed: list[ColumnElement[bool]]) -> RatingFigures:
    """The scores given to the requests closed in the period."""
    counts: dict[int, int] = {}
    for score, count in await session.execute(
        select(Rating.score, func.count())
        .select_from(ClientRequest)
        .join(Rating, Rating.request_id == ClientRequest.id)
        .where(*closed, Rating.score.is_not(None))
        .group_by(Rating.score)
    ):
        if score is not None:
            counts[score] = count
    distribution = [counts.get(n, 0) for n in range(1, 6)]
    total = sum(distribution)
    if not total:
        return RatingFigures(count=0, average=None, distribution=distribution, satisfied_share=None)
    return RatingFigures(
        count=total,
        average=round(sum(score * count for score, count in counts.items()) / total, 2),
        distribution=distribution,
        satisfied_share=round((distribution[3] + distribution[4]) / total, 3),
    )


async def _by_hour_and_weekday(
    session: AsyncSession, created: list[ColumnElement[bool]], zone: ZoneInfo
) -> tuple[list[int], list[int]]:
    """Requests created, by hour of the day and day of the week (Monday first) in ``zone``.
    PostgreSQL counts in the zone itself; SQLite knows no time zones, so there the (embedded,
    small) period's creation times are counted here."""
    by_hour = [0] * 24
    by_weekday = [0] * 7
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone(zone.key, ClientRequest.created_at)
        hour, weekday = extract("hour", local), extract("isodow", local)
        for at_hour, on_day, count in await session.execute(
            select(hour, weekday, func.count()).where(*created).group_by(hour, weekday)
        ):
            by_hour[int(at_hour)] += count
            by_weekday[int(on_day) - 1] += count
        return by_hour, by_weekday
    for created_at in await session.scalars(select(ClientRequest.created_at).where(*created)):
        local_time = created_at.astimezone(zone)
        by_hour[local_time.hour] += 1
        by_weekday[local_time.weekday()] += 1
    return by_hour, by_weekday


async def _per_employee(
    session: AsyncSession, closed: list[ColumnElement[bool]]
) -> list[EmployeeFigures]:
    """Each employee's requests closed in the period: how many, how fast they were answered
    (where this employee answered first) and resolved, and how they were rated."""
    closer = ClientRequest.closed_by_id
    handled = [*closed, closer.is_not(None)]
    rows = (
        await session.execute(
            select(
                closer,
                Employee.name,
                func.count(),
                func.avg(Rating.score),
                func.count(Rating.score),
            )
            .select_from(ClientRequest)
            .join(Employee, Employee.id == closer)
            .outerjoin(Rating, Rating.request_id == ClientRequest.id)
            .where(*handled)
            .group_by(closer, Employee.name)
        )
    ).all()
    if not rows:
        return []
    answered = await durations_by(
        session,
        seconds_between(ClientRequest.first_response_at, ClientRequest.created_at),
        [*handled, ClientRequest.first_responder_id == closer],
        closer,
    )
    resolved = await durations_by(
        session, seconds_between(ClientRequest.closed_at, ClientRequest.created_at), handled, closer
    )
    figures = [
        EmployeeFigures(
            id=employee_id,
            name=name,
            handled=count,
            first_response=answered.get(employee_id, NO_DURATIONS),
            resolution=resolved.get(employee_id, NO_DURATIONS),
            rating_average=round(float(average), 2) if average is not None else None,
            ratings=rated,
        )
        for employee_id, name, count, average, rated in rows
    ]
    return sorted(figures, key=lambda row: (-row.handled, row.name))
