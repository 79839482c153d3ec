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

import math
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

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
from impserver.domains.requests.models import ClientRequest, RequestTransition
from impserver.domains.resources.models import Queue, Resource
from impserver.domains.rooms.models import KIND_TEXT, Message

ASSIGNED = ("accepted", "auto_assigned")
ENTERED_QUEUE = ("topic_chosen", "default_queue")


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of them at or
    below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def durations(values: list[float]) -> Durations:
    if not values:
        return Durations(count=0, median_seconds=None, p90_seconds=None)
    return Durations(
        count=len(values),
        median_seconds=round(median(values), 1),
        p90_seconds=round(_percentile(values, 0.9), 1),
    )


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
    """The figures, of the resources in ``allowed`` only when it is given (a supervisor's)."""
    await _check(session, filters)
    await ensure_resource_overseen(session, allowed, filters.resource_id, filters.queue_id)
    start, end, zone = _period(filters)
    scope = _scope(filters)
    if allowed is not None:
        scope.append(ClientRequest.resource_id.in_(allowed))
    created = list(
        await session.scalars(
            select(ClientRequest)
            .where(*scope)
            .where(ClientRequest.created_at >= start, ClientRequest.created_at < end)
        )
    )
    closed = list(
        await session.scalars(
            select(ClientRequest)
            .where(*scope)
            .where(ClientRequest.closed_at >= start, ClientRequest.closed_at < end)
        )
    )
    involved = {r.id: r for r in [*created, *closed]}
    by_room = {r.room_id: r.id for r in involved.values()}

    # The first employee reply to the client in each request, and who wrote it.
    first_reply: dict[int, tuple[datetime, int]] = {}
    if by_room:
        for room_id, at, author in await session.execute(
            select(Message.room_id, func.min(Message.created_at), Message.author_employee_id)
            .where(Message.room_id.in_(by_room))
            .where(Message.kind == KIND_TEXT)
            .where(Message.author_employee_id.is_not(None))
            .group_by(Message.room_id, Message.author_employee_id)
        ):
            request_id = by_room[room_id]
            known = first_reply.get(request_id)
            if author is not None and (known is None or at < known[0]):
                first_reply[request_id] = (at, author)

    entered: dict[int, datetime] = {}
    assigned: dict[int, datetime] = {}
    closed_by: dict[int, int] = {}
    if involved:
        for request_id, kind, actor, at in await session.execute(
            select(
                RequestTransition.request_id,
                RequestTransition.kind,
                RequestTransition.actor_employee_id,
                RequestTransition.created_at,
            )
            .where(RequestTransition.request_id.in_(involved))
            .where(RequestTransition.kind.in_([*ASSIGNED, *ENTERED_QUEUE, "closed"]))
            .order_by(RequestTransition.id)
        ):
            if kind in ENTERED_QUEUE:
                entered.setdefault(request_id, at)
            elif kind in ASSIGNED:
                assigned.setdefault(request_id, at)
            elif actor is not None:
                closed_by[request_id] = actor

    scores = {
        request_id: score
        for request_id, score in await session.execute(
            select(Rating.request_id, Rating.score)
            .where(Rating.request_id.in_([r.id for r in closed]))
            .where(Rating.score.is_not(None))
        )
        if score is not None
    }

    if filters.employee_id:
        # One person's share: the requests they closed, and those they answered first.
        mine = {i for i, who in closed_by.items() if who == filters.employee_id}
        mine |= {i for i, (_, who) in first_reply.items() if who == filters.employee_id}
        created = [r for r in created if r.id in mine]
        closed = [r for r in closed if r.id in mine]
        scores = {i: s for i, s in scores.items() if i in mine}

    def seconds(later: datetime, earlier: datetime) -> float:
        return max(0.0, (later - earlier).total_seconds())

    first_responses = [
        seconds(first_reply[r.id][0], r.created_at) for r in created if r.id in first_reply
    ]
    resolutions = [seconds(r.closed_at, r.created_at) for r in closed if r.closed_at]
    waits = [
        seconds(assigned[r.id], entered.get(r.id, r.created_at))
        for r in created
        if r.id in assigned
    ]
    missed = sum(1 for r in closed if r.id not in first_reply)
    by_hour = [0] * 24
    by_weekday = [0] * 7
    for r in created:
        local = r.created_at.astimezone(zone)
        by_hour[local.hour] += 1
        by_weekday[local.weekday()] += 1

    return TeamReport(
        created=len(created),
        closed=len(closed),
        missed=missed,
        first_response=durations(first_responses),
        resolution=durations(resolutions),
        queue_wait=durations(waits),
        ratings=_ratings(list(scores.values())),
        employees=await _per_employee(session, closed, closed_by, first_reply, scores),
        by_hour=by_hour,
        by_weekday=by_weekday,
    )


def _ratings(scores: list[int]) -> RatingFigures:
    distribution = [scores.count(n) for n in range(1, 6)]
    return RatingFigures(
        count=len(scores),
        average=round(sum(scores) / len(scores), 2) if scores else None,
        distribution=distribution,
        satisfied_share=round((distribution[3] + distribution[4]) / len(scores), 3)
        if scores
        else None,
    )


async def _per_employee(
    session: AsyncSession,
    closed: list[ClientRequest],
    closed_by: dict[int, int],
    first_reply: dict[int, tuple[datetime, int]],
    scores: dict[int, int],
) -> list[EmployeeFigures]:
    """Each employee's requests closed in the period: how many, how fast they were answered
    (where this employee answered first) and resolved, and how they were rated."""
    handled: dict[int, list[ClientRequest]] = defaultdict(list)
    for request in closed:
        if (who := closed_by.get(request.id)) is not None:
            handled[who].append(request)
    if not handled:
        return []
    names = {
        employee_id: name
        for employee_id, name in await session.execute(
            select(Employee.id, Employee.name).where(Employee.id.in_(handled))
        )
    }
    rows = []
    for employee_id, requests in handled.items():
        answered = [
            (first_reply[r.id][0] - r.created_at).total_seconds()
            for r in requests
            if r.id in first_reply and first_reply[r.id][1] == employee_id
        ]
        resolved = [(r.closed_at - r.created_at).total_seconds() for r in requests if r.closed_at]
        rated = [scores[r.id] for r in requests if r.id in scores]
        rows.append(
            EmployeeFigures(
                id=employee_id,
                name=names.get(employee_id, ""),
                handled=len(requests),
                first_response=durations([max(0.0, s) for s in answered]),
                resolution=durations([max(0.0, s) for s in resolved]),
                rating_average=round(sum(rated) / len(rated), 2) if rated else None,
                ratings=len(rated),
            )
        )
    return sorted(rows, key=lambda row: (-row.handled, row.name))
