from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import ROLE_ADMIN, ROLE_SUPERVISOR, Employee
from impserver.domains.resources.models import Group, GroupMember, Queue, QueueAccess, Resource
from impserver.domains.resources.schemas import (
    GroupRead,
    QueueRead,
    ResourceRead,
    ServedQueueRead,
    widget_look_of,
)


async def resource_reads(
    session: AsyncSession, resource_ids: list[int] | None = None
) -> list[ResourceRead]:
    query = select(Resource).where(Resource.deleted_at.is_(None)).order_by(Resource.id)
    if resource_ids is not None:
        query = query.where(Resource.id.in_(resource_ids))
    resources = list(await session.scalars(query))
    queues: dict[int, list[QueueRead]] = defaultdict(list)
    for queue in await session.scalars(
        select(Queue)
        .where(Queue.resource_id.in_([r.id for r in resources]))
        .where(Queue.archived_at.is_(None))
        .order_by(Queue.position, Queue.id)
    ):
        queues[queue.resource_id].append(QueueRead.model_validate(queue))
    return [
        ResourceRead(
            id=r.id,
            kind=r.kind,
            name=r.name,
            is_active=r.is_active,
            topic_choice_seconds=r.topic_choice_seconds,
            rating_enabled=r.rating_enabled,
            rating_question=r.rating_question,
            typing_preview=r.typing_preview,
            widget_look=widget_look_of(r.widget_look),
            client_voice_calls=r.client_voice_calls,
            client_video_calls=r.client_video_calls,
            site_origins=list(r.site_origins or []),
            public_key=r.public_key,
            bot_username=(r.channel_config or {}).get("bot_username"),
            queues=queues[r.id],
        )
        for r in resources
    ]


async def resource_read(session: AsyncSession, resource_id: int) -> ResourceRead:
    return (await resource_reads(session, [resource_id]))[0]


async def group_reads(session: AsyncSession, group_ids: list[int] | None = None) -> list[GroupRead]:
    query = select(Group).order_by(Group.resource_id, Group.name)
    if group_ids is not None:
        query = query.where(Group.id.in_(group_ids))
    groups = list(await session.scalars(query))
    members: dict[int, list[int]] = defaultdict(list)
    for group_id, employee_id in await session.execute(
        select(GroupMember.group_id, GroupMember.employee_id)
        .where(GroupMember.group_id.in_([g.id for g in groups]))
        .order_by(GroupMember.employee_id)
    ):
        members[group_id].append(employee_id)
    return [
        GroupRead(id=g.id, name=g.name, resource_id=g.resource_id, member_ids=members[g.id])
        for g in groups
    ]


async def group_read(session: AsyncSession, group_id: int) -> GroupRead:
    return (await group_reads(session, [group_id]))[0]


async def served_queues(session: AsyncSession, employee_id: int) -> list[ServedQueueRead]:
    rows = await session.execute(
        select(Queue, Resource.name)
        .join(QueueAccess, QueueAccess.queue_id == Queue.id)
        .join(Resource, Resource.id == Queue.resource_id)
        .where(QueueAccess.employee_id == employee_id)
        .where(Queue.archived_at.is_(None))
        .where(Resource.deleted_at.is_(None))
        .order_by(Resource.name, Queue.position, Queue.id)
    )
    return [
        ServedQueueRead(**QueueRead.model_validate(queue).model_dump(), resource_name=name)
        for queue, name in rows
    ]


async def queue_server_ids(session: AsyncSession, queue_id: int) -> list[int]:
    """Employees serving a queue: the audience of its waiting requests."""
    rows = await session.scalars(
        select(QueueAccess.employee_id)
        .join(Employee, Employee.id == QueueAccess.employee_id)
        .where(QueueAccess.queue_id == queue_id)
        .where(Employee.is_active.is_(True))
    )
    return sorted(rows)


async def overseer_ids(session: AsyncSession, resource_id: int) -> list[int]:
    """Who oversees a resource's work: every administrator, and the supervisors serving one
    of its queues."""
    serving = (
        select(QueueAccess.employee_id)
        .join(Queue, Queue.id == QueueAccess.queue_id)
        .where(Queue.resource_id == resource_id)
    )
    rows = await session.scalars(
        select(Employee.id)
        .where(Employee.is_active.is_(True))
        .where(
            or_(
                Employee.role == ROLE_ADMIN,
                and_(Employee.role == ROLE_SUPERVISOR, Employee.id.in_(serving)),
            )
        )
    )
    return sorted(rows)
