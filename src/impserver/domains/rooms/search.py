"""Finding rooms and requests by the people in them, and messages by their text (S-1).

Matching uses Python's case folding, so that Cyrillic matches regardless of case on SQLite too
(its lower() only folds ASCII): people's and rooms' names are compared over the searcher's own
rooms and requests; message text through ``Message.search_text``, folded when it is written.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client, Contact
from impserver.domains.requests.models import STATUS_ASSIGNED, STATUS_WAITING, ClientRequest
from impserver.domains.resources.models import QueueAccess
from impserver.domains.rooms import queries
from impserver.domains.rooms.messaging import message_reads
from impserver.domains.rooms.models import ROOM_REQUEST, Message, Room, RoomMember
from impserver.domains.rooms.schemas import MessageRead, RoomRead

MESSAGE_LIMIT = 50


class RequestHit(BaseModel):
    id: int
    room_id: int
    status: str
    client_name: str
    matched: str


class SearchResults(BaseModel):
    rooms: list[RoomRead]
    requests: list[RequestHit]
    messages: list[MessageRead]


def _matches(needle: str, *values: str | None) -> str | None:
    for value in values:
        if value and needle in value.casefold():
            return value
    return None


async def visible_request_rooms(session: AsyncSession, employee_id: int) -> list[ClientRequest]:
    served = select(QueueAccess.queue_id).where(QueueAccess.employee_id == employee_id)
    return list(
        await session.scalars(
            select(ClientRequest).where(
                or_(
                    (ClientRequest.assignee_id == employee_id)
                    & (ClientRequest.status == STATUS_ASSIGNED),
                    (ClientRequest.status == STATUS_WAITING) & ClientRequest.queue_id.in_(served),
                )
            )
        )
    )


async def search(session: AsyncSession, employee_id: int, text: str) -> SearchResults:
    needle = text.strip().casefold()
    if not needle:
        return SearchResults(rooms=[], requests=[], messages=[])

    my_rooms = list(
        await session.scalars(
            select(Room)
            .join(RoomMember, RoomMember.room_id == Room.id)
            .where(RoomMember.employee_id == employee_id)
            .where(Room.kind != ROOM_REQUEST)
        )
    )
    people = await session.execute(
        select(RoomMember.room_id, Employee.name, Employee.login)
        .join(Employee, Employee.id == RoomMember.employee_id)
        .where(RoomMember.room_id.in_([r.id for r in my_rooms]))
        .where(Employee.id != employee_id)
    )
    hit_rooms = {room_id for room_id, name, login in people if _matches(needle, name, login)}
    hit_rooms |= {r.id for r in my_rooms if _matches(needle, r.name)}
    rooms = await queries.room_reads(
        session, [r for r in my_rooms if r.id in hit_rooms], employee_id
    )

    requests = await visible_request_rooms(session, employee_id)
    clients = {
        c.id: c
        for c in await session.scalars(
            select(Client).where(Client.id.in_({r.client_id for r in requests}))
        )
    }
    contacts: dict[int, list[str]] = {}
    for contact in await session.scalars(
        select(Contact).where(Contact.client_id.in_(list(clients)))
    ):
        contacts.setdefault(contact.client_id, []).append(contact.value)
    request_hits = []
    for request in requests:
        client = clients.get(request.client_id)
        if client is None:
            continue
        matched = _matches(needle, client.display_name, *contacts.get(client.id, []))
        if matched:
            request_hits.append(
                RequestHit(
                    id=request.id,
                    room_id=request.room_id,
                    status=request.status,
                    client_name=client.display_name,
                    matched=matched,
                )
            )

    readable_rooms = [r.id for r in my_rooms] + [r.room_id for r in requests]
    found = list(
        await session.scalars(
            select(Message)
            .where(Message.room_id.in_(readable_rooms))
            .where(Message.deleted_at.is_(None))
            .where(Message.kind == "text")
            .where(Message.search_text.contains(needle, autoescape=True))
            .order_by(Message.id.desc())
            .limit(MESSAGE_LIMIT)
        )
    )
    return SearchResults(
        rooms=rooms, requests=request_hits, messages=await message_reads(session, found)
    )
