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

Periods of up to ``EXACT_UP_TO_DAYS`` days, and any period of one queue or one employee, are
worked out from the requests themselves, exactly. Longer ones of the team (or of resources)
sum the daily and monthly tallies (``tallies.py``) and count only the partial days at their
edges, and the days changed since the last roll-up, from the requests: counts, scores and
averages stay exact; medians and 90th percentiles come from merged histograms, within 5%.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from impserver.core.errors import InvalidInput
from impserver.domains.accounts.models import Employee
from impserver.domains.ratings.models import Rating
from impserver.domains.reports.checks import check_known
from impserver.domains.reports.durations import seconds_between
from impserver.domains.reports.models import (
    SPAN_DAY,
    SPAN_HOURS,
    SPAN_MONTH,
    SPAN_YEAR,
    ReportTally,
)
from impserver.domains.reports.schemas import (
    MAX_RANGE_DAYS,
    Durations,
    EmployeeFigures,
    RatingFigures,
    ReportFilters,
    TeamReport,
)
from impserver.domains.reports.scope import ensure_resource_overseen
from impserver.domains.reports.tallies import (
    Ranges,
    TallyKey,
    bucket_middle,
    changed_days,
    day_start,
    month_of,
    next_month,
    tally_requests,
    utc_day,
)
from impserver.domains.requests.models import ClientRequest
from impserver.domains.resources.models import Queue, Resource

REPORT_WORK_MEM = "64MB"
# A week of a busy team is some 20,000 requests: sorted exactly in a fraction of a second.
EXACT_UP_TO_DAYS = 7


NO_DURATIONS = Durations(count=0, median_seconds=None, p90_seconds=None)


def _durations(count: int, middle: float | None, p90: float | None) -> Durations:
    if not count or middle is None or p90 is None:
        return NO_DURATIONS
    return Durations(count=count, median_seconds=round(middle, 1), p90_seconds=round(p90, 1))


@dataclass
class Summary:
    """Aggregates of a set of requests: plain ones by name, and durations by name."""

    values: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, Durations] = field(default_factory=dict)

    def duration(self, name: str) -> Durations:
        return self.durations.get(name, NO_DURATIONS)


async def summarise(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    *,
    values: dict[str, ColumnElement[Any]],
    durations: dict[str, ColumnElement[float]],
    group: ColumnElement[Any] | QueryableAttribute[Any] | None = None,
    with_ratings: bool = False,
) -> dict[Hashable, Summary]:
    """The requests matching ``where`` (``with_ratings``: joined to their rating, if any), per
    ``group`` or all
    together under the key None: each of ``values`` (aggregate expressions), and for each of
    ``durations`` (seconds, NULL where a request has none) how many have it, its median (the
    middle value, or the mean of the two middle ones) and its nearest-rank 90th percentile
    (the value at rank ceil(0.9 n)). The database works them out: a year of requests never
    travels to the server."""
    keys = [group] if group is not None else []
    rated = select(*keys, *values.values()).select_from(ClientRequest).where(*where)
    if with_ratings:
        rated = rated.outerjoin(Rating, Rating.request_id == ClientRequest.id)
    if session.get_bind().dialect.name == "postgresql":
        # Ordered-set aggregates: every duration in the same scan (percentile_disc is the
        # nearest rank; percentile_cont(0.5) the median as defined).
        for seconds in durations.values():
            rated = rated.add_columns(
                func.count(seconds),
                func.percentile_cont(0.5).within_group(seconds),
                func.percentile_disc(0.9).within_group(seconds),
            )
    rows = await session.execute(rated.group_by(*keys) if keys else rated)
    found: dict[Hashable, Summary] = {}
    for row in rows:
        key, row_values = (row[0], row[1:]) if keys else (None, tuple(row))
        summary = found[key] = Summary(dict(zip(values, row_values, strict=False)))
        triples = row_values[len(values) :]
        for i, name in enumerate(durations if triples else ()):
            summary.durations[name] = _durations(*triples[3 * i : 3 * i + 3])
    if session.get_bind().dialect.name != "postgresql":
        for name, seconds in durations.items():
            for key, figures in (await _ranked(session, seconds, where, group)).items():
                found.setdefault(key, Summary()).durations[name] = figures
    return found


async def _ranked(
    session: AsyncSession,
    seconds: ColumnElement[float],
    where: Sequence[ColumnElement[bool]],
    group: ColumnElement[Any] | QueryableAttribute[Any] | None,
) -> dict[Hashable, Durations]:
    """SQLite, which has no percentiles: ranks counted with window functions."""
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
    return {group_key: _durations(*figures) for group_key, *figures in rows}


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
    session: AsyncSession,
    filters: ReportFilters,
    allowed: set[int] | None = None,
    *,
    exact_up_to_days: int = EXACT_UP_TO_DAYS,
) -> TeamReport:
    """The figures, of the resources in ``allowed`` only when it is given (a supervisor's).

    Each request carries its own milestones (queued, first assigned, first answered and by
    whom, closed and by whom), so every figure is one aggregate over the requests of the
    period, read through the period indexes; or, for a long period, a sum of tallies."""
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
    if session.get_bind().dialect.name == "postgresql":
        # Medians and percentiles sort the period's values: in memory, not in temporary files
        # (a year of a busy team is a million values a figure). For this transaction only.
        await session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    long_period = (filters.date_to - filters.date_from).days >= exact_up_to_days
    if long_period and not (filters.queue_id or filters.employee_id):
        tallied = await _team_report_from_tallies(session, scope, filters, allowed, start, end)
        if tallied is not None:
            return tallied
    created = [*scope, ClientRequest.created_at >= start, ClientRequest.created_at < end]
    closed = [*scope, ClientRequest.closed_at >= start, ClientRequest.closed_at < end]

    first_response = seconds_between(ClientRequest.first_response_at, ClientRequest.created_at)
    resolution = seconds_between(ClientRequest.closed_at, ClientRequest.created_at)
    of_created = (
        await summarise(
            session,
            created,
            values={"created": func.count()},
            durations={
                "first_response": first_response,
                "queue_wait": seconds_between(
                    ClientRequest.first_assigned_at,
                    func.coalesce(ClientRequest.queued_at, ClientRequest.created_at),
                ),
            },
        )
    )[None]
    scores = {f"score_{n}": func.count(case((Rating.score == n, 1))) for n in range(1, 6)}
    of_closed = (
        await summarise(
            session,
            closed,
            values={
                "closed": func.count(),
                "missed": func.count(case((ClientRequest.first_response_at.is_(None), 1))),
                **scores,
            },
            durations={"resolution": resolution},
            with_ratings=True,
        )
    )[None]
    by_hour, by_weekday = await _by_hour_and_weekday(session, created, zone)
    return TeamReport(
        created=of_created.values["created"],
        closed=of_closed.values["closed"],
        missed=of_closed.values["missed"],
        first_response=of_created.duration("first_response"),
        resolution=of_closed.duration("resolution"),
        queue_wait=of_created.duration("queue_wait"),
        ratings=_ratings([of_closed.values[f"score_{n}"] for n in range(1, 6)]),
        employees=await _per_employee(session, closed, first_response, resolution),
        by_hour=by_hour,
        by_weekday=by_weekday,
    )


def _ratings(distribution: list[int]) -> RatingFigures:
    """The scores given to the requests closed in the period: how many of each, 1 to 5."""
    total = sum(distribution)
    if not total:
        return RatingFigures(count=0, average=None, distribution=distribution, satisfied_share=None)
    return RatingFigures(
        count=total,
        average=round(sum(n * c for n, c in enumerate(distribution, start=1)) / total, 2),
        distribution=distribution,
        satisfied_share=round((distribution[3] + distribution[4]) / total, 3),
    )


async def _by_hour_and_weekday(
    session: AsyncSession, created: list[ColumnElement[bool]], zone: ZoneInfo
) -> tuple[list[int], list[int]]:
    """Requests created, by hour of the day and day of the week (Monday first) in ``zone``.
    PostgreSQL counts them by local hour of the period (at most 8,784 of a year); SQLite knows
    no time zones, so there the (embedded, small) period's creation times are counted here."""
    by_hour = [0] * 24
    by_weekday = [0] * 7
    if session.get_bind().dialect.name == "postgresql":
        local_hour = func.date_trunc("hour", func.timezone(zone.key, ClientRequest.created_at))
        counted: Iterable[tuple[datetime, int]] = (
            (hour, count)
            for hour, count in await session.execute(
                select(local_hour, func.count()).where(*created).group_by(local_hour)
            )
        )
    else:
        counted = (
            (created_at.astimezone(zone), 1)
            for created_at in await session.scalars(
                select(ClientRequest.created_at).where(*created)
            )
        )
    for moment, count in counted:
        by_hour[moment.hour] += count
        by_weekday[moment.weekday()] += count
    return by_hour, by_weekday


async def _per_employee(
    session: AsyncSession,
    closed: list[ColumnElement[bool]],
    first_response: ColumnElement[float],
    resolution: ColumnElement[float],
) -> list[EmployeeFigures]:
    """Each employee's requests closed in the period: how many, how fast they were answered
    (where this employee answered first) and resolved, and how they were rated."""
    closer = ClientRequest.closed_by_id
    found = await summarise(
        session,
        [*closed, closer.is_not(None)],
        values={
            "handled": func.count(),
            "rating_average": func.avg(Rating.score),
            "ratings": func.count(Rating.score),
        },
        durations={
            "first_response": case((ClientRequest.first_responder_id == closer, first_response)),
            "resolution": resolution,
        },
        group=closer,
        with_ratings=True,
    )
    if not found:
        return []
    names = {
        employee_id: name
        for employee_id, name in await session.execute(
            select(Employee.id, Employee.name).where(Employee.id.in_(found))
        )
    }
    figures = [
        EmployeeFigures(
            id=employee_id,
            name=names.get(employee_id, ""),
            handled=summary.values["handled"],
            first_response=summary.duration("first_response"),
            resolution=summary.duration("resolution"),
            rating_average=round(float(average), 2)
            if (average := summary.values["rating_average"]) is not None
            else None,
            ratings=summary.values["ratings"],
        )
        for employee_id, summary in found.items()
        if isinstance(employee_id, int)
    ]
    return sorted(figures, key=lambda row: (-row.handled, row.name))


async def _team_report_from_tallies(
    session: AsyncSession,
    scope: list[ColumnElement[bool]],
    filters: ReportFilters,
    allowed: set[int] | None,
    start: datetime,
    end: datetime,
) -> TeamReport | None:
    """The figures of a long period from the tallies of its whole UTC days (by month where it
    can, see ``_spans``), and from the requests of the rest: the partial days at its edges, and
    the days changed since they were tallied. None when the period holds no whole UTC day."""
    first_day = utc_day(start)
    if day_start(first_day) < start:
        first_day += timedelta(days=1)
    end_day = utc_day(end)
    if first_day >= end_day:
        return None
    changed = await changed_days(session, first_day, end_day - timedelta(days=1))
    spans = _spans(first_day, end_day, changed)
    from_requests = Ranges.of(
        [
            (start, day_start(first_day)),
            (day_start(end_day), end),
            *((day_start(d), day_start(d + timedelta(days=1))) for d in changed),
        ]
    )

    resources: list[ColumnElement[bool]] = []
    if filters.resource_id:
        resources.append(ReportTally.resource_id == filters.resource_id)
    if allowed is not None:
        resources.append(ReportTally.resource_id.in_(allowed))
    read = [
        and_(ReportTally.span == SPAN_DAY, ReportTally.span_start >= a, ReportTally.span_start < b)
        for a, b in _runs(spans.added[SPAN_DAY] | spans.taken[SPAN_DAY])
    ]
    for span in (SPAN_MONTH, SPAN_YEAR):
        if starts := spans.added[span] | spans.taken[span]:
            read.append(and_(ReportTally.span == span, ReportTally.span_start.in_(starts)))
    taken = [
        and_(ReportTally.span == span, ReportTally.span_start.in_(starts))
        for span, starts in spans.taken.items()
        if starts
    ]
    signed = (
        case((or_(*taken), -ReportTally.count), else_=ReportTally.count)
        if taken
        else (ReportTally.count)
    )
    tally: Counter[TallyKey] = Counter()
    if read:
        summed = await session.execute(
            select(
                ReportTally.employee_id,
                ReportTally.figure,
                ReportTally.bucket,
                func.sum(signed),
            )
            .where(or_(*read), *resources)
            .group_by(ReportTally.employee_id, ReportTally.figure, ReportTally.bucket)
        )
        for employee_id, figure, bucket, count in summed:
            if count:
                tally[employee_id, figure, bucket] += int(count)
    for counted in (await tally_requests(session, from_requests, scope)).values():
        tally.update(counted)

    zone = ZoneInfo(filters.tz)
    by_hour, by_weekday = [0] * 24, [0] * 7
    created_in_requests: list[ColumnElement[bool]] | None = (
        [*scope, from_requests.holding(ClientRequest.created_at)] if from_requests.spans else None
    )
    hours = await session.execute(
        select(ReportTally.span_start, ReportTally.bucket, func.sum(ReportTally.count))
        .where(
            ReportTally.span == SPAN_HOURS,
            ReportTally.span_start >= first_day,
            ReportTally.span_start < end_day,
            ReportTally.span_start.not_in(changed) if changed else literal(True),
            *resources,
        )
        .group_by(ReportTally.span_start, ReportTally.bucket)
    )
    # Each day's hours in the zone: shifted by its offset, looked up once a day (per hour on
    # the days its clocks change).
    placed: dict[tuple[date, int], tuple[int, int, timedelta]] = {}
    for day, hour, count in hours:
        if (day, hour) not in placed:
            midnight = day_start(day)
            first = midnight.astimezone(zone)
            offset = first.utcoffset() or timedelta()
            if (midnight + timedelta(hours=23)).astimezone(zone).utcoffset() == offset:
                for each in range(24):
                    local = first + timedelta(hours=each)
                    placed[day, each] = (local.hour, local.weekday(), offset)
            else:
                local = (midnight + timedelta(hours=hour)).astimezone(zone)
                placed[day, hour] = (local.hour, local.weekday(), local.utcoffset() or timedelta())
        local_hour, weekday, offset = placed[day, hour]
        if offset % timedelta(hours=1):
            # A zone ahead by a part of an hour (India's, Nepal's): a UTC hour falls into two of
            # its hours, so every creation time of the period is placed one by one.
            created_in_requests = [
                *scope,
                ClientRequest.created_at >= start,
                ClientRequest.created_at < end,
            ]
            by_hour, by_weekday = [0] * 24, [0] * 7
            break
        by_hour[local_hour] += int(count)
        by_weekday[weekday] += int(count)
    if created_in_requests is not None:
        exact_hour, exact_weekday = await _by_hour_and_weekday(session, created_in_requests, zone)
        by_hour = [a + b for a, b in zip(by_hour, exact_hour, strict=True)]
        by_weekday = [a + b for a, b in zip(by_weekday, exact_weekday, strict=True)]
    return await _report_of_tally(session, tally, by_hour, by_weekday)


@dataclass
class Spans:
    """The tallies that make up a run of whole days: those added, and those taken off (a
    month's or a year's days outside the period), by span."""

    added: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))
    taken: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))


def _spans(first_day: date, end_day: date, changed: set[date]) -> Spans:
    """Which tallies make up the whole days from ``first_day`` to ``end_day`` (exclusive),
    leaving out the ``changed`` ones (counted from the requests). A year or a month none of
    whose days in the period changed is read whole, less what of it lies outside the period,
    when that is the smaller part (a year of a report in Moscow time is a UTC year less a
    day); otherwise its clean days are read one by one."""
    spans = Spans()
    year = date(first_day.year, 1, 1)
    while year < end_day:
        next_year = year.replace(year=year.year + 1)
        inside = (min(next_year, end_day) - max(year, first_day)).days
        outside = (next_year - year).days - inside
        clean = not any(max(year, first_day) <= day < min(next_year, end_day) for day in changed)
        if clean and outside <= 31:
            spans.added[SPAN_YEAR].add(year)
            _take_outside(spans, year, next_year, first_day, end_day)
        else:
            _months(spans, max(year, month_of(first_day)), min(next_year, end_day), first_day,
                    end_day, changed)  # fmt: skip
        year = next_year
    return spans


def _take_outside(
    spans: Spans, year: date, next_year: date, first_day: date, end_day: date
) -> None:
    month = year
    while month < next_year:
        days = [month + timedelta(days=n) for n in range((next_month(month) - month).days)]
        outside = [day for day in days if not first_day <= day < end_day]
        if len(outside) == len(days):
            spans.taken[SPAN_MONTH].add(month)
        else:
            spans.taken[SPAN_DAY].update(outside)
        month = next_month(month)


def _months(
    spans: Spans, month: date, until: date, first_day: date, end_day: date, changed: set[date]
) -> None:
    """The months from ``month`` to ``until``: whole less their few days outside the period,
    or their clean days one by one."""
    while month < until:
        days = [month + timedelta(days=n) for n in range((next_month(month) - month).days)]
        inside = [day for day in days if first_day <= day < end_day]
        outside = [day for day in days if not first_day <= day < end_day]
        if len(outside) < len(inside) and not changed.intersection(inside):
            spans.added[SPAN_MONTH].add(month)
            spans.taken[SPAN_DAY].update(outside)
        else:
            spans.added[SPAN_DAY].update(day for day in inside if day not in changed)
        month = next_month(month)


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Days as runs of consecutive days, [first, after the last)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _histograms(tally: Counter[TallyKey]) -> dict[tuple[int | None, str], list[tuple[int, int]]]:
    """Each (employee or the team, figure)'s buckets and counts, in bucket order."""
    found: dict[tuple[int | None, str], list[tuple[int, int]]] = {}
    for (who, figure, bucket), count in tally.items():
        if count:
            found.setdefault((who, figure), []).append((bucket, count))
    for counts in found.values():
        counts.sort()
    return found


def _percentiles(counts: list[tuple[int, int]] | None) -> Durations:
    """Median and nearest-rank 90th percentile of a histogram: the middles of the buckets that
    hold those ranks."""
    n = sum(count for _, count in counts or ())
    if not counts or not n:
        return NO_DURATIONS

    def at_rank(rank: int) -> float:
        seen = 0
        for bucket, count in counts:
            seen += count
            if seen >= rank:
                return bucket_middle(bucket)
        return bucket_middle(counts[-1][0])

    middle = (at_rank((n + 1) // 2) + at_rank((n + 2) // 2)) / 2
    return _durations(n, middle, at_rank(math.ceil(9 * n / 10)))


async def _report_of_tally(
    session: AsyncSession, tally: Counter[TallyKey], by_hour: list[int], by_weekday: list[int]
) -> TeamReport:
    histograms = _histograms(tally)
    employees = sorted({who for who, figure, _ in tally if who is not None and figure == "handled"})
    names = (
        {
            employee_id: name
            for employee_id, name in await session.execute(
                select(Employee.id, Employee.name).where(Employee.id.in_(employees))
            )
        }
        if employees
        else {}
    )
    rows = []
    for employee_id in employees:
        scores = [tally[employee_id, "score", n] for n in range(1, 6)]
        rated = sum(scores)
        rows.append(
            EmployeeFigures(
                id=employee_id,
                name=names.get(employee_id, ""),
                handled=tally[employee_id, "handled", 0],
                first_response=_percentiles(histograms.get((employee_id, "first_response"))),
                resolution=_percentiles(histograms.get((employee_id, "resolution"))),
                rating_average=round(sum(n * c for n, c in enumerate(scores, 1)) / rated, 2)
                if rated
                else None,
                ratings=rated,
            )
        )
    return TeamReport(
        created=tally[None, "created", 0],
        closed=tally[None, "closed", 0],
        missed=tally[None, "missed", 0],
        first_response=_percentiles(histograms.get((None, "first_response"))),
        resolution=_percentiles(histograms.get((None, "resolution"))),
        queue_wait=_percentiles(histograms.get((None, "queue_wait"))),
        ratings=_ratings([tally[None, "score", n] for n in range(1, 6)]),
        employees=sorted(rows, key=lambda row: (-row.handled, row.name)),
        by_hour=by_hour,
        by_weekday=by_weekday,
    )
