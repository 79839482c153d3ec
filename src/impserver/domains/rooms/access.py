"""Who may read a room: checked on the server for history, posting, files and events."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import NotFound
from impserver.domains.requests.models import STATUS_WAITING, ClientRequest
from impserver.domains.resources.models import QueueAccess
from impserver.domains.rooms.models import ROOM_REQUEST, Room, RoomMember

ROOM_NOT_FOUND = "Room not found."


async def is_member(session: AsyncSession, room_id: int, employee_id: int) -> bool:
    return (
        await session.scalar(
            select(RoomMember.room_id)
            .where(RoomMember.room_id == room_id)
            .where(RoomMember.employee_id == employee_id)
        )
    ) is not None


async def can_employee_read_room(session: AsyncSession, employee_id: int, room: Room) -> bool:
    if room.kind != ROOM_REQUEST:
        return await is_member(session, room.id, employee_id)
    request = await session.scalar(select(ClientRequest).where(ClientRequest.room_id == room.id))
    if request is None:
        return False
    if request.assignee_id == employee_id:
        return True
    if request.status != STATUS_WAITING or request.queue_id is None:
        return False
    serves = await session.scalar(
        select(QueueAccess.queue_id)
        .where(QueueAccess.queue_id == request.queue_id)
        .where(QueueAccess.employee_id == employee_id)
    )
    return serves is not None


async def member_room(session: AsyncSession, room_id: int, employee_id: int) -> Room:
    """An employees' room the employee belongs to; anything else is "not found" to them."""
    room = await session.get(Room, room_id)
    if (
        room is None
        or room.kind == ROOM_REQUEST
        or not await is_member(session, room_id, employee_id)
    ):
        raise NotFound(ROOM_NOT_FOUND)
    return room


async def member_ids(session: AsyncSession, room_id: int) -> list[int]:
    rows = await session.scalars(
        select(RoomMember.employee_id).where(RoomMember.room_id == room_id)
    )
    return sorted(rows)
