"""The team right now: who waits in each queue and for how long, who is at work and how many
requests each holds. Read again whenever ``queue.load`` or ``employee.status`` says it changed."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import Employee
from impserver.domains.reports.schemas import LiveEmployee, LiveQueue, LiveView
from impserver.domains.requests.models import STATUS_WAITING, ClientRequest
from impserver.domains.resources.models import Queue, QueueAccess, Resource
from impserver.domains.routing import queries as routing_queries
from impserver.domains.routing.models import STATUS_OFFLINE, Availability


async def live_view(session: AsyncSession, allowed: set[int] | None) -> LiveView:
    """Of the resources in ``allowed`` (a supervisor's), or of all (None: an administrator)."""
    waiting = (
        select(
            Queue.id,
            Queue.name,
            Queue.resource_id,
            Resource.name,
            func.count(ClientRequest.id),
            func.min(ClientRequest.waiting_since),
        )
        .join(Resource, Resource.id == Queue.resource_id)
        .outerjoin(
            ClientRequest,
            and_(ClientRequest.queue_id == Queue.id, ClientRequest.status == STATUS_WAITING),
        )
        .where(Queue.archived_at.is_(None), Resource.deleted_at.is_(None))
        .group_by(Queue.id, Queue.name, Queue.resource_id, Resource.name, Queue.position)
        .order_by(Resource.name, Queue.resource_id, Queue.position, Queue.id)
    )
    team = select(Employee.id, Employee.name, Availability.status, Availability.capacity).outerjoin(
        Availability, Availability.employee_id == Employee.id
    )
    team = team.where(Employee.is_active.is_(True)).order_by(Employee.name, Employee.id)
    if allowed is not None:
        waiting = waiting.where(Queue.resource_id.in_(allowed))
        serving = select(QueueAccess.employee_id).join(Queue, Queue.id == QueueAccess.queue_id)
        team = team.where(Employee.id.in_(serving.where(Queue.resource_id.in_(allowed))))
    queues = [
        LiveQueue(
            id=queue_id,
            name=name,
            resource_id=resource_id,
            resource_name=resource_name,
            waiting=count,
            oldest_waiting_since=oldest if count else None,
        )
        for queue_id, name, resource_id, resource_name, count, oldest in await session.execute(
            waiting
        )
    ]
    people = (await session.execute(team)).all()
    holding = await routing_queries.open_counts(session, [row[0] for row in people])
    default_capacity = await routing_queries.default_capacity(session)
    employees = [
        LiveEmployee(
            id=employee_id,
            name=name,
            status=status or STATUS_OFFLINE,
            holding=holding.get(employee_id, 0),
            capacity=capacity if capacity is not None else default_capacity,
        )
        for employee_id, name, status, capacity in people
    ]
    return LiveView(queues=queues, employees=employees)
