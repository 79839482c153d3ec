"""Finding rooms by the people in them and the messages of rooms by their text (S-1); requests
are found by ``domains.requests.search``, under its own reading rule.

Matching uses Python's case folding, so that Cyrillic matches regardless of case on SQLite too
(its lower() only folds ASCII): people's and rooms' names are compared over the searcher's own
rooms; message text through ``Message.search_text``, folded when it is written.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import Employee
from impserver.domains.requests.search import RequestHit, find_requests
from impserver.domains.rooms import queries
from impserver.domains.rooms.messaging import message_reads
from impserver.domains.rooms.models import ROOM_REQUEST, Message, Room, RoomMember
from impserver.domains.rooms.schemas import MessageRead, RoomRead

MESSAGE_LIMIT = 50


class SearchResults(BaseModel):
    rooms: list[RoomRead]
    requests: list[RequestHit]
    messages: list[MessageRead]


def _matches(needle: str, *values: str | None) -> str | None:
    for value in values:
        if value and needle in value.casefold():
            return value
    return None


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

    # Text found in a request's history makes that request a hit, not a room message.
    readable_rooms = [r.id for r in my_rooms]
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
        rooms=rooms,
        requests=await find_requests(session, employee_id, text),
        messages=await message_reads(session, found),
    )
