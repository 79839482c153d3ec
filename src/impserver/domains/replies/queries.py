from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import Employee
from impserver.domains.replies.models import CannedReply
from impserver.domains.replies.schemas import CannedReplyRead
from impserver.domains.resources.models import Queue, QueueAccess


def reply_read(reply: CannedReply, viewer: Employee) -> CannedReplyRead:
    shared = reply.owner_employee_id is None
    return CannedReplyRead(
        id=reply.id,
        code=reply.code,
        text=reply.text,
        shared=shared,
        resource_id=reply.resource_id,
        editable=viewer.is_admin if shared else reply.owner_employee_id == viewer.id,
    )


async def served_resource_ids(session: AsyncSession, employee_id: int) -> set[int]:
    rows = await session.scalars(
        select(Queue.resource_id)
        .join(QueueAccess, QueueAccess.queue_id == Queue.id)
        .where(QueueAccess.employee_id == employee_id)
    )
    return set(rows)


async def visible_replies(session: AsyncSession, viewer: Employee) -> list[CannedReplyRead]:
    """The employee's own replies, the shared ones for everyone, and the shared ones of the
    resources they serve (administrators: of every resource, as they keep them)."""
    shared_for_resources = CannedReply.owner_employee_id.is_(None) & CannedReply.resource_id.isnot(
        None
    )
    if not viewer.is_admin:
        served = await served_resource_ids(session, viewer.id)
        shared_for_resources = shared_for_resources & CannedReply.resource_id.in_(served)
    rows = await session.scalars(
        select(CannedReply)
        .where(
            or_(
                CannedReply.owner_employee_id == viewer.id,
                CannedReply.owner_employee_id.is_(None) & CannedReply.resource_id.is_(None),
                shared_for_resources,
            )
        )
        .order_by(CannedReply.code, CannedReply.id)
    )
    return [reply_read(reply, viewer) for reply in rows]
