"""Which requests an employee may read, and finding them by client, contact or text (S-1).

An employee reads the requests of the queues they serve, open or closed, whoever handles them,
and the ones assigned to them (a specialist may be given a request from a queue they do not
serve). Acting on a request is a narrower right: see ``actions._owned_request``.

Names and contacts are matched with Python's case folding over the clients of readable requests
(SQLite's lower() folds ASCII only); message text through ``Message.search_text``, folded when
it is written.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import NotFound
from impserver.domains.clients.models import Client, Contact
from impserver.domains.requests.models import ClientRequest
from impserver.domains.requests.queries import client_brief, queue_and_assignee_names
from impserver.domains.requests.schemas import ClientBrief, RequestStatus
from impserver.domains.resources.models import QueueAccess, Resource
from impserver.domains.rooms.models import WRITTEN_KINDS, Message, Room
from impserver.domains.tags.models import RequestTag, Tag
from impserver.domains.tags.queries import tags_of_requests
from impserver.domains.tags.schemas import TagRead

REQUEST_LIMIT = 50
REQUEST_NOT_FOUND = "Request not found."
# A query of phone-number characters with at least this many digits is also compared digit by
# digit, so that "9001234567" finds "+7 (900) 123-45-67".
PHONE_DIGITS = 5
_PHONE_QUERY = re.compile(r"[\d\s()+\-.]+")


class RequestHit(BaseModel):
    """A found request, with what an employee needs to tell it from others at a glance."""

    id: int
    room_id: int
    status: RequestStatus
    client: ClientBrief
    resource: str
    queue: str | None
    assignee: str | None
    created_at: datetime
    last_activity_at: datetime
    matched_in: Literal["name", "contact", "message", "tag"]
    matched: str
    tags: list[TagRead] = []


def readable_by(employee_id: int) -> ColumnElement[bool]:
    served = select(QueueAccess.queue_id).where(QueueAccess.employee_id == employee_id)
    return or_(ClientRequest.queue_id.in_(served), ClientRequest.assignee_id == employee_id)


async def readable_request(
    session: AsyncSession, employee_id: int, request_id: int
) -> ClientRequest:
    """The request if the employee may read its history (not necessarily act on it)."""
    request = await session.scalar(
        select(ClientRequest).where(ClientRequest.id == request_id).where(readable_by(employee_id))
    )
    if request is None:
        raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
    return request


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _excerpt(body: str, needle: str, width: int = 80) -> str:
    at = body.casefold().find(needle)
    start = max(0, at - width // 3) if at >= 0 else 0
    text = body[start : start + width]
    return ("…" if start else "") + text + ("…" if start + width < len(body) else "")


async def find_requests(session: AsyncSession, employee_id: int, text: str) -> list[RequestHit]:
    """Readable requests whose client's name or contact, or whose messages, contain ``text``;
    newest activity first."""
    needle = text.strip().casefold()
    if not needle:
        return []
    readable = readable_by(employee_id)
    phone_needle = _digits(needle) if _PHONE_QUERY.fullmatch(needle) else ""
    if len(phone_needle) < PHONE_DIGITS:
        phone_needle = ""
    readable_clients = select(ClientRequest.client_id).where(readable)

    matched: dict[int, tuple[Literal["name", "contact", "message", "tag"], str]] = {}
    by_client: dict[int, tuple[Literal["name", "contact", "message", "tag"], str]] = {}
    for client_id, name in await session.execute(
        select(Client.id, Client.display_name).where(Client.id.in_(readable_clients))
    ):
        if name and needle in name.casefold():
            by_client[client_id] = ("name", name)
    for client_id, value in await session.execute(
        select(Contact.client_id, Contact.value)
        .where(Contact.client_id.in_(readable_clients))
        .where(Contact.is_hidden.is_(False))
    ):
        if client_id in by_client:
            continue
        if needle in value.casefold() or (phone_needle and phone_needle in _digits(value)):
            by_client[client_id] = ("contact", value)
    if by_client:
        for request_id, client_id in await session.execute(
            select(ClientRequest.id, ClientRequest.client_id)
            .where(readable)
            .where(ClientRequest.client_id.in_(list(by_client)))
        ):
            matched[request_id] = by_client[client_id]

    for request_id, body in await session.execute(
        select(ClientRequest.id, Message.body)
        .join(Message, Message.room_id == ClientRequest.room_id)
        .where(readable)
        .where(Message.kind.in_(WRITTEN_KINDS))
        .where(Message.deleted_at.is_(None))
        .where(Message.search_text.contains(needle, autoescape=True))
        .order_by(Message.id.desc())
        .limit(REQUEST_LIMIT * 4)
    ):
        matched.setdefault(request_id, ("message", _excerpt(body, needle)))
    for request_id, tag_name in await session.execute(
        select(RequestTag.request_id, Tag.name)
        .join(Tag, Tag.id == RequestTag.tag_id)
        .join(ClientRequest, ClientRequest.id == RequestTag.request_id)
        .where(readable)
        .where(Tag.folded_name.contains(needle, autoescape=True))
        .order_by(RequestTag.request_id.desc())
        .limit(REQUEST_LIMIT * 4)
    ):
        matched.setdefault(request_id, ("tag", tag_name))
    if not matched:
        return []

    rows = (
        await session.execute(
            select(ClientRequest, Client, Resource, Room)
            .join(Client, Client.id == ClientRequest.client_id)
            .join(Resource, Resource.id == ClientRequest.resource_id)
            .join(Room, Room.id == ClientRequest.room_id)
            .where(ClientRequest.id.in_(list(matched)))
            .order_by(Room.last_message_at.desc(), ClientRequest.id.desc())
            .limit(REQUEST_LIMIT)
        )
    ).all()
    queues, assignees = await queue_and_assignee_names(session, (r for r, *_ in rows))
    tags = await tags_of_requests(session, (request.id for request, *_ in rows))
    hits = []
    for request, client, resource, room in rows:
        matched_in, what = matched[request.id]
        hits.append(
            RequestHit(
                id=request.id,
                room_id=request.room_id,
                status=request.status,
                client=client_brief(client, resource.kind),
                resource=resource.name,
                queue=queues.get(request.queue_id) if request.queue_id else None,
                assignee=assignees.get(request.assignee_id) if request.assignee_id else None,
                created_at=request.created_at,
                last_activity_at=room.last_message_at or request.created_at,
                matched_in=matched_in,
                matched=what,
                tags=tags.get(request.id, []),
            )
        )
    return hits
