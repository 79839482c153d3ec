"""Whose requests a reader of the archive and the reports may see.

Administrators: every resource's. Supervisors: the resources whose queues they serve (their
team's), and any request they took part in. Employees: the requests they took part in, and no
reports.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import Forbidden
from impserver.domains.accounts.models import Employee
from impserver.domains.resources.models import Queue, QueueAccess


async def supervised_resources(session: AsyncSession, reader: Employee) -> set[int] | None:
    """The resources whose requests the reader oversees: None for every one (administrators),
    an empty set for an employee."""
    if reader.is_admin:
        return None
    if not reader.is_supervisor:
        return set()
    return set(
        await session.scalars(
            select(Queue.resource_id)
            .join(QueueAccess, QueueAccess.queue_id == Queue.id)
            .where(QueueAccess.employee_id == reader.id)
        )
    )


def ensure_oversees(reader: Employee) -> None:
    if not (reader.is_admin or reader.is_supervisor):
        raise Forbidden(
            "Reports are for administrators and supervisors.", code="reports_not_allowed"
        )


async def ensure_resource_overseen(
    session: AsyncSession, allowed: set[int] | None, resource_id: int | None, queue_id: int | None
) -> None:
    """A supervisor asking about another team's resource (or a queue of one) is refused."""
    if allowed is None:
        return
    asked = {resource_id} if resource_id else set()
    if queue_id and (queue := await session.get(Queue, queue_id)) is not None:
        asked.add(queue.resource_id)
    if asked - allowed:
        raise Forbidden("This resource is not one you supervise.", code="report_resource_forbidden")
