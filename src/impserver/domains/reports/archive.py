"""The request archive: every request its reader may see, filtered and paged on the server,
and any one of them read whole.

Administrators see every request; an employee sees those they took part in: held, were
handed, acted on, or wrote in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Integer, any_, exists, func, literal, or_, select, union
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from impserver.core.errors import InvalidInput, NotFound
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client, Contact
from impserver.domains.ratings.models import Rating
from impserver.domains.reports.checks import check_known
from impserver.domains.reports.schemas import (
    MAX_RANGE_DAYS,
    ArchiveChoices,
    ArchiveDetail,
    ArchiveFilters,
    ArchivePage,
    ArchiveRating,
    ArchiveRow,
    NamedOption,
    QueueOption,
)
from impserver.domains.reports.scope import supervised_resources
from impserver.domains.requests.models import ClientRequest, RequestTransition
from impserver.domains.requests.queries import client_brief, queue_and_assignee_names
from impserver.domains.resources.models import Queue, QueueAccess, Resource
from impserver.domains.rooms.messaging import history_page
from impserver.domains.tags.models import RequestTag, Tag
from impserver.domains.tags.queries import tags_of_requests

REQUEST_NOT_FOUND = "Request not found."
# The matches counted for a page's total: past this, "more than" (and the pages beyond the one
# read are counted as they are reached). Counting every one of a common surname's 30,000
# requests took longer than finding the page itself.
TOTAL_COUNTED_UP_TO = 1000
# A request's history as the archive first shows it; older pages on demand.
HISTORY_PAGE = 100


def among(
    session: AsyncSession, column: QueryableAttribute[int], ids: list[int]
) -> ColumnElement[bool]:
    """``column`` is one of ``ids``, looked up beforehand: the query then knows how many rows
    it looks for and can page through the newest instead of reading every request. On
    PostgreSQL one array parameter, however many ids."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(Integer)))
    return column.in_(ids)


async def took_part(session: AsyncSession, employee_id: int) -> ColumnElement[bool]:
    """The employee holds the request, or was handed it or acted on it. Writing in a request
    takes holding it (replies and notes are the assignee's), and every way of getting one is
    in its history, so the history's indexed employee columns find all of them."""
    ids = await session.scalars(
        union(
            select(ClientRequest.id).where(ClientRequest.assignee_id == employee_id),
            select(RequestTransition.request_id).where(
                RequestTransition.actor_employee_id == employee_id
            ),
            select(RequestTransition.request_id).where(
                RequestTransition.target_employee_id == employee_id
            ),
        )
    )
    return among(session, ClientRequest.id, list(ids))


async def _visible_to(session: AsyncSession, reader: Employee) -> ColumnElement[bool] | None:
    allowed = await supervised_resources(session, reader)
    if allowed is None:
        return None
    if allowed:
        return or_(ClientRequest.resource_id.in_(allowed), await took_part(session, reader.id))
    return await took_part(session, reader.id)


def _day_bounds(filters: ArchiveFilters) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(filters.date_from, time.min, UTC) if filters.date_from else None
    end = (
        datetime.combine(filters.date_to, time.min, UTC) + timedelta(days=1)
        if filters.date_to
        else None
    )
    if start and end and start >= end:
        raise InvalidInput(
            "date_from: the period starts after it ends.", code="archive_dates_inverted"
        )
    if start and end and end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(
            f"The period is longer than {MAX_RANGE_DAYS} days; choose a shorter one.",
            code="archive_range_too_long",
            params={"max_days": MAX_RANGE_DAYS},
        )
    return start, end


async def _of_clients_matching(session: AsyncSession, text: str) -> ColumnElement[bool]:
    """Requests of clients whose name or a contact contains ``text``, in any letter case.
    Hidden contacts count: the archive is the record, and a client who wrote from an address
    they no longer use is looked up by it. PostgreSQL compares case-insensitively in every
    alphabet; SQLite's LIKE folds ASCII only, so there the (small, embedded) client list is
    compared in Python."""
    if session.get_bind().dialect.name == "postgresql":
        # ILIKE (not lower() LIKE) and a union (not OR), so the trigram indexes serve both.
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        matching = union(
            select(Client.id).where(Client.display_name.ilike(pattern, escape="\\")),
            select(Contact.client_id).where(Contact.value.ilike(pattern, escape="\\")),
        ).subquery()
        # One array, not a row per client: a common surname is thousands of clients.
        ids = await session.scalar(select(func.array_agg(matching.c[0])))
        return among(session, ClientRequest.client_id, list(ids or []))
    needle = text.casefold()
    found = {
        client_id
        for client_id, name in await session.execute(select(Client.id, Client.display_name))
        if needle in (name or "").casefold()
    }
    found |= {
        client_id
        for client_id, value in await session.execute(select(Contact.client_id, Contact.value))
        if needle in value.casefold()
    }
    return among(session, ClientRequest.client_id, sorted(found))


async def archive_page(
    session: AsyncSession, reader: Employee, filters: ArchiveFilters
) -> ArchivePage:
    await check_known(
        session,
        filters,
        {"resource_id": Resource, "queue_id": Queue, "employee_id": Employee, "tag_id": Tag},
        code="archive_filter_unknown",
    )
    start, end = _day_bounds(filters)
    conditions: list[ColumnElement[bool]] = []
    if (visible := await _visible_to(session, reader)) is not None:
        conditions.append(visible)
    if filters.status:
        conditions.append(ClientRequest.status == filters.status)
    if filters.resource_id:
        conditions.append(ClientRequest.resource_id == filters.resource_id)
    if filters.queue_id:
        conditions.append(ClientRequest.queue_id == filters.queue_id)
    if filters.employee_id:
        conditions.append(await took_part(session, filters.employee_id))
    if filters.tag_id:
        conditions.append(
            exists().where(
                RequestTag.request_id == ClientRequest.id, RequestTag.tag_id == filters.tag_id
            )
        )
    if start:
        conditions.append(ClientRequest.created_at >= start)
    if end:
        conditions.append(ClientRequest.created_at < end)
    if filters.rating:
        conditions.append(
            exists().where(Rating.request_id == ClientRequest.id, Rating.score == filters.rating)
        )
    if filters.client:
        conditions.append(await _of_clients_matching(session, filters.client))
    counted_up_to = max(TOTAL_COUNTED_UP_TO, filters.page * filters.page_size)
    matching = select(ClientRequest.id).where(*conditions).limit(counted_up_to + 1).subquery()
    total = await session.scalar(select(func.count()).select_from(matching)) or 0
    ids = list(
        await session.scalars(
            select(ClientRequest.id)
            .where(*conditions)
            .order_by(ClientRequest.created_at.desc(), ClientRequest.id.desc())
            .offset((filters.page - 1) * filters.page_size)
            .limit(filters.page_size)
        )
    )
    return ArchivePage(
        total=min(total, counted_up_to),
        total_exact=total <= counted_up_to,
        page=filters.page,
        page_size=filters.page_size,
        items=await _rows(session, ids),
    )


async def _rows(session: AsyncSession, ids: list[int]) -> list[ArchiveRow]:
    if not ids:
        return []
    found = (
        await session.execute(
            select(ClientRequest, Client, Resource, Rating.score)
            .join(Client, Client.id == ClientRequest.client_id)
            .join(Resource, Resource.id == ClientRequest.resource_id)
            .outerjoin(Rating, Rating.request_id == ClientRequest.id)
            .where(ClientRequest.id.in_(ids))
        )
    ).all()
    queues, assignees = await queue_and_assignee_names(session, (r for r, *_ in found))
    tags = await tags_of_requests(session, ids)
    by_id = {
        request.id: ArchiveRow(
            id=request.id,
            status=request.status,
            client=client_brief(client, resource.kind),
            resource=resource.name,
            queue=queues.get(request.queue_id) if request.queue_id else None,
            assignee=assignees.get(request.assignee_id) if request.assignee_id else None,
            created_at=request.created_at,
            closed_at=request.closed_at,
            rating=score,
            tags=tags.get(request.id, []),
        )
        for request, client, resource, score in found
    }
    return [by_id[i] for i in ids if i in by_id]


async def archive_choices(session: AsyncSession, reader: Employee) -> ArchiveChoices:
    queues = select(Queue).where(Queue.archived_at.is_(None)).order_by(Queue.position, Queue.id)
    resources = (
        select(Resource).where(Resource.deleted_at.is_(None)).order_by(Resource.name, Resource.id)
    )
    employees = select(Employee).where(Employee.is_active.is_(True)).order_by(Employee.name)
    allowed = await supervised_resources(session, reader)
    if allowed:
        # A supervisor: their team's resources, all their queues, everyone serving them.
        queues = queues.where(Queue.resource_id.in_(allowed))
        resources = resources.where(Resource.id.in_(allowed))
        team = select(QueueAccess.employee_id).join(Queue, Queue.id == QueueAccess.queue_id)
        employees = employees.where(Employee.id.in_(team.where(Queue.resource_id.in_(allowed))))
    elif allowed is not None:
        served = select(QueueAccess.queue_id).where(QueueAccess.employee_id == reader.id)
        queues = queues.where(Queue.id.in_(served))
        resources = resources.where(
            Resource.id.in_(select(Queue.resource_id).where(Queue.id.in_(served)))
        )
        employees = employees.where(Employee.id == reader.id)
    return ArchiveChoices(
        resources=[NamedOption(id=r.id, name=r.name) for r in await session.scalars(resources)],
        queues=[
            QueueOption(id=q.id, name=q.name, resource_id=q.resource_id)
            for q in await session.scalars(queues)
        ],
        employees=[NamedOption(id=e.id, name=e.name) for e in await session.scalars(employees)],
    )


async def archived_request(
    session: AsyncSession, reader: Employee, request_id: int
) -> ClientRequest:
    """The request if the reader may see it in the archive; "not found" otherwise, so that
    ids reveal nothing."""
    query = select(ClientRequest).where(ClientRequest.id == request_id)
    if (visible := await _visible_to(session, reader)) is not None:
        query = query.where(visible)
    request = await session.scalar(query)
    if request is None:
        raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
    return request


async def archive_detail(session: AsyncSession, reader: Employee, request_id: int) -> ArchiveDetail:
    request = await archived_request(session, reader, request_id)
    (row,) = await _rows(session, [request.id])
    rating = await session.scalar(
        select(Rating).where(Rating.request_id == request.id).where(Rating.score.is_not(None))
    )
    messages = await history_page(session, request.room_id, limit=HISTORY_PAGE + 1)
    return ArchiveDetail(
        request=row,
        rating=(
            ArchiveRating(score=rating.score, comment=rating.comment, rated_at=rating.rated_at)
            if rating is not None and rating.score is not None
            else None
        ),
        messages=messages[-HISTORY_PAGE:],
        has_older=len(messages) > HISTORY_PAGE,
    )
