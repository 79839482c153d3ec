from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import Employee
from impserver.domains.accounts.queries import unread_by_room
from impserver.domains.rooms.messaging import message_reads
from impserver.domains.rooms.models import ROOM_REQUEST, Message, Room, RoomMember
from impserver.domains.rooms.schemas import MemberRead, MessageRead, RoomRead


async def room_reads(
    session: AsyncSession, rooms: list[Room], viewer_id: int | None = None
) -> list[RoomRead]:
    """Rooms with members and last message; ``unread`` counted for ``viewer_id`` if given."""
    ids = [r.id for r in rooms]
    members: dict[int, list[MemberRead]] = defaultdict(list)
    rows = await session.execute(
        select(RoomMember.room_id, RoomMember.last_read_message_id, Employee)
        .join(Employee, Employee.id == RoomMember.employee_id)
        .where(RoomMember.room_id.in_(ids))
        .order_by(RoomMember.joined_at, Employee.id)
    )
    for room_id, last_read, employee in rows:
        members[room_id].append(
            MemberRead(
                id=employee.id,
                name=employee.name,
                login=employee.login,
                last_read_message_id=last_read,
            )
        )
    last_ids = [r.last_message_id for r in rooms if r.last_message_id]
    last_messages: dict[int, MessageRead] = {}
    if last_ids:
        messages = list(await session.scalars(select(Message).where(Message.id.in_(last_ids))))
        last_messages = {m.room_id: m for m in await message_reads(session, messages)}
    unread = await unread_by_room(session, viewer_id) if viewer_id is not None else {}
    return [
        RoomRead(
            id=r.id,
            kind=r.kind,
            name=r.name,
            creator_id=r.creator_id,
            members=members[r.id],
            last_message=last_messages.get(r.id),
            unread=unread.get(r.id, 0),
            created_at=r.created_at,
        )
        for r in rooms
    ]


async def room_read(session: AsyncSession, room: Room, viewer_id: int | None = None) -> RoomRead:
    return (await room_reads(session, [room], viewer_id))[0]


async def rooms_of(session: AsyncSession, employee_id: int) -> list[RoomRead]:
    """The employee's rooms (not client requests), most recently active first."""
    rooms = list(
        await session.scalars(
            select(Room)
            .join(RoomMember, RoomMember.room_id == Room.id)
            .where(RoomMember.employee_id == employee_id)
            .where(Room.kind != ROOM_REQUEST)
        )
    )
    rooms.sort(key=lambda r: r.last_message_at or r.created_at, reverse=True)
    return await room_reads(session, rooms, employee_id)
