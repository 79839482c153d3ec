"""Who may read a room: checked on the server for history, posting, files and events."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import NotFound
from impserver.core.unit_of_work import DriverUnit, SqliteUnit
from impserver.domains.accounts.models import Employee
from impserver.domains.requests.models import ClientRequest
from impserver.domains.resources.models import QueueAccess
from impserver.domains.rooms.models import ROOM_REQUEST, Attachment, Message, Room, RoomMember

ROOM_NOT_FOUND = "Room not found."
FILE_NOT_FOUND = "File not found."


async def is_member(session: AsyncSession, room_id: int, employee_id: int) -> bool:
    return (
        await session.scalar(
            select(RoomMember.room_id)
            .where(RoomMember.room_id == room_id)
            .where(RoomMember.employee_id == employee_id)
        )
    ) is not None


async def can_employee_read_room(session: AsyncSession, employee: Employee, room: Room) -> bool:
    """Employees' rooms: members only. A client request's room: its assignee, and the employees
    serving the queue it is in (they see it waiting, and may need its files after it is taken)."""
    if room.kind != ROOM_REQUEST:
        return await is_member(session, room.id, employee.id)
    request = await session.scalar(select(ClientRequest).where(ClientRequest.room_id == room.id))
    if request is None:
        return False
    if request.assignee_id == employee.id:
        return True
    if request.queue_id is None:
        return False
    serves = await session.scalar(
        select(QueueAccess.queue_id)
        .where(QueueAccess.queue_id == request.queue_id)
        .where(QueueAccess.employee_id == employee.id)
    )
    return serves is not None


async def member_room(session: AsyncSession, room_id: int, employee_id: int) -> Room:
    """An employees' room the employee belongs to; anything else is "not found" to them."""
    room = await session.scalar(
        select(Room)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .where(Room.id == room_id, Room.kind != ROOM_REQUEST)
        .where(RoomMember.employee_id == employee_id)
    )
    if room is None:
        raise NotFound(ROOM_NOT_FOUND, code="room_not_found")
    return room


_ROOM_MEMBERS = (
    select(RoomMember.__table__.c.employee_id)
    .select_from(RoomMember.__table__.join(Room.__table__))
    .where(Room.__table__.c.id == bindparam("room_id"), Room.__table__.c.kind != ROOM_REQUEST)
)


async def member_room_with_members(
    session: AsyncSession, room_id: int, employee_id: int
) -> tuple[int, list[int]]:
    """``member_room``'s check and ``member_ids`` in one Core query (built once), for posting:
    the busiest path. Returns the room's id and its members."""
    members = sorted(await session.scalars(_ROOM_MEMBERS, {"room_id": room_id}))
    if employee_id not in members:
        raise NotFound(ROOM_NOT_FOUND, code="room_not_found")
    return room_id, members


_ROOM_MEMBERS_DRIVER = """
    SELECT room_members.employee_id FROM room_members JOIN rooms ON rooms.id = room_members.room_id
    WHERE rooms.id = $1 AND rooms.kind <> $2
"""


async def member_ids_on_driver(
    unit: DriverUnit | SqliteUnit, room_id: int, employee_id: int
) -> list[int]:
    """``member_room_with_members`` in a driver's unit: the room's members, if the employee is
    one of them."""
    members = sorted(
        row[0] for row in await unit.connection.fetch(_ROOM_MEMBERS_DRIVER, room_id, ROOM_REQUEST)
    )
    if employee_id not in members:
        raise NotFound(ROOM_NOT_FOUND, code="room_not_found")
    return members


async def member_ids(session: AsyncSession, room_id: int) -> list[int]:
    rows = await session.scalars(
        select(RoomMember.employee_id).where(RoomMember.room_id == room_id)
    )
    return sorted(rows)


async def attachment_for_employee(
    session: AsyncSession, employee: Employee, attachment_id: int
) -> Attachment:
    """A file the employee may download: one they uploaded and have not sent yet, or one sent in
    a room they can read. Anything else is "not found", so ids reveal nothing."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(FILE_NOT_FOUND, code="file_not_found")
    if attachment.message_id is None:
        allowed = attachment.uploader_employee_id == employee.id
    else:
        message = await session.get(Message, attachment.message_id)
        room = await session.get(Room, message.room_id) if message else None
        allowed = (
            message is not None
            and message.deleted_at is None
            and room is not None
            and await can_employee_read_room(session, employee, room)
        )
    if not allowed:
        raise NotFound(FILE_NOT_FOUND, code="file_not_found")
    return attachment
