from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import Employee
from impserver.domains.accounts.schemas import EmployeeBrief, EmployeeRead, SummaryRead
from impserver.domains.requests.models import (
    STATUS_ASSIGNED,
    STATUS_WAITING,
    ClientRequest,
    RequestDecline,
)
from impserver.domains.resources.models import GroupMember, QueueAccess
from impserver.domains.rooms.models import ROOM_REQUEST, WRITTEN_KINDS, Message, Room, RoomMember


async def employee_reads(
    session: AsyncSession, employee_ids: list[int] | None = None
) -> list[EmployeeRead]:
    query = select(Employee).order_by(Employee.name, Employee.id)
    if employee_ids is not None:
        query = query.where(Employee.id.in_(employee_ids))
    employees = list(await session.scalars(query))
    ids = [e.id for e in employees]
    queue_ids: dict[int, list[int]] = defaultdict(list)
    group_ids: dict[int, list[int]] = defaultdict(list)
    for employee_id, queue_id in await session.execute(
        select(QueueAccess.employee_id, QueueAccess.queue_id)
        .where(QueueAccess.employee_id.in_(ids))
        .order_by(QueueAccess.queue_id)
    ):
        queue_ids[employee_id].append(queue_id)
    for employee_id, group_id in await session.execute(
        select(GroupMember.employee_id, GroupMember.group_id)
        .where(GroupMember.employee_id.in_(ids))
        .order_by(GroupMember.group_id)
    ):
        group_ids[employee_id].append(group_id)
    return [
        EmployeeRead(
            id=e.id,
            login=e.login,
            name=e.name,
            role=e.role,
            is_active=e.is_active,
            language=e.language,
            queue_ids=queue_ids[e.id],
            group_ids=group_ids[e.id],
        )
        for e in employees
    ]


async def employee_read(session: AsyncSession, employee_id: int) -> EmployeeRead:
    return (await employee_reads(session, [employee_id]))[0]


async def colleagues(session: AsyncSession) -> list[EmployeeBrief]:
    employees = await session.scalars(
        select(Employee).where(Employee.is_active.is_(True)).order_by(Employee.name)
    )
    return [EmployeeBrief.model_validate(e) for e in employees]


async def served_queue_ids(session: AsyncSession, employee_id: int) -> list[int]:
    rows = await session.scalars(
        select(QueueAccess.queue_id).where(QueueAccess.employee_id == employee_id)
    )
    return sorted(rows)


async def unread_by_room(session: AsyncSession, employee_id: int) -> dict[int, int]:
    """Messages by others after the employee's read mark, per room they are a member of.

    Only what people wrote counts: system lines (a request accepted, a topic timer, a call
    record, someone joining a room) are part of the history but nothing to be "read".
    """
    rows = await session.execute(
        select(RoomMember.room_id, func.count(Message.id))
        .join(
            Message,
            and_(
                Message.room_id == RoomMember.room_id,
                Message.id > RoomMember.last_read_message_id,
                Message.kind.in_(WRITTEN_KINDS),
                Message.deleted_at.is_(None),
                (Message.author_employee_id.is_(None))
                | (Message.author_employee_id != employee_id),
            ),
        )
        .where(RoomMember.employee_id == employee_id)
        .group_by(RoomMember.room_id)
    )
    return {room_id: count for room_id, count in rows}


async def summary(session: AsyncSession, employee_id: int) -> SummaryRead:
    declined = select(RequestDecline.request_id).where(RequestDecline.employee_id == employee_id)
    queue_waiting = await session.scalar(
        select(func.count(ClientRequest.id))
        .join(QueueAccess, QueueAccess.queue_id == ClientRequest.queue_id)
        .where(QueueAccess.employee_id == employee_id)
        .where(ClientRequest.status == STATUS_WAITING)
        .where(ClientRequest.id.not_in(declined))
    )
    unread = await unread_by_room(session, employee_id)
    request_rooms = set(
        await session.scalars(
            select(ClientRequest.room_id)
            .where(ClientRequest.assignee_id == employee_id)
            .where(ClientRequest.status == STATUS_ASSIGNED)
        )
    )
    team_rooms = set(
        await session.scalars(
            select(Room.id).where(Room.id.in_(list(unread))).where(Room.kind != ROOM_REQUEST)
        )
    )
    return SummaryRead(
        queue_waiting=int(queue_waiting or 0),
        requests_unread=sum(n for room_id, n in unread.items() if room_id in request_rooms),
        rooms_unread=sum(n for room_id, n in unread.items() if room_id in team_rooms),
    )


async def is_current_avatar(session: AsyncSession, key: str) -> bool:
    """Whether ``key`` is an employee's photo now (a replaced or removed one is not)."""
    found = await session.scalar(select(Employee.id).where(Employee.avatar_key == key))
    return found is not None
