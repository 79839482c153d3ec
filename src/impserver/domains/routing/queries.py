"""What routing reads: who is available, how busy, and how each queue is routed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.requests.models import STATUS_ASSIGNED, STATUS_WAITING, ClientRequest
from impserver.domains.resources.models import Queue, QueueAccess
from impserver.domains.routing.hours import Schedule
from impserver.domains.routing.models import (
    DEFAULT_WAIT_AMBER_MINUTES,
    DEFAULT_WAIT_RED_MINUTES,
    MODE_AUTOMATIC,
    MODE_MANUAL,
    ON_OFFLINE_KEEP,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Availability,
    BusinessHours,
    QueueRouting,
    RoutingDefaults,
)

# Any fixed number: the PostgreSQL advisory lock every assignment holds (see hold_routing_lock).
_ROUTING_LOCK = 7_240_016


async def hold_routing_lock(uow: UnitOfWork) -> None:
    """Until the transaction ends, no other one (on any instance) gives out requests: counting an
    employee's open requests and giving them one more must not interleave with another such
    pair, or two instances could both fill their last slot. SQLite's writers already take turns.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ROUTING_LOCK}
        )


async def default_capacity(session: AsyncSession) -> int | None:
    return await session.scalar(select(RoutingDefaults.default_capacity).limit(1))


async def capacity_of(session: AsyncSession, employee_id: int) -> int | None:
    own = await session.scalar(
        select(Availability.capacity).where(Availability.employee_id == employee_id)
    )
    return own if own is not None else await default_capacity(session)


async def open_counts(
    session: AsyncSession, employee_ids: list[int] | None = None
) -> dict[int, int]:
    query = (
        select(ClientRequest.assignee_id, func.count())
        .where(ClientRequest.status == STATUS_ASSIGNED)
        .group_by(ClientRequest.assignee_id)
    )
    if employee_ids is not None:
        query = query.where(ClientRequest.assignee_id.in_(employee_ids))
    return {
        employee_id: count for employee_id, count in await session.execute(query) if employee_id
    }


async def status_of(session: AsyncSession, employee_id: int) -> str:
    status = await session.scalar(
        select(Availability.status).where(Availability.employee_id == employee_id)
    )
    return status or STATUS_OFFLINE


async def statuses(session: AsyncSession) -> dict[int, str]:
    """Every active employee's status (Offline for those never seen)."""
    rows = await session.execute(
        select(Employee.id, Availability.status)
        .outerjoin(Availability, Availability.employee_id == Employee.id)
        .where(Employee.is_active.is_(True))
    )
    return {employee_id: status or STATUS_OFFLINE for employee_id, status in rows}


async def active_employee_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Employee.id).where(Employee.is_active.is_(True))))


@dataclass(frozen=True)
class Candidate:
    employee_id: int
    open: int
    last_assigned_at: datetime | None


async def free_online_employees(session: AsyncSession) -> list[Candidate]:
    """Online, active employees holding fewer open requests than their capacity."""
    rows = list(
        await session.execute(
            select(Availability.employee_id, Availability.capacity, Availability.last_assigned_at)
            .join(Employee, Employee.id == Availability.employee_id)
            .where(Availability.status == STATUS_ONLINE)
            .where(Employee.is_active.is_(True))
        )
    )
    if not rows:
        return []
    default = await default_capacity(session)
    counts = await open_counts(session, [row.employee_id for row in rows])
    free = []
    for employee_id, own_capacity, last_assigned_at in rows:
        capacity = own_capacity if own_capacity is not None else default
        held = counts.get(employee_id, 0)
        if capacity is None or held < capacity:
            free.append(Candidate(employee_id, held, last_assigned_at))
    return free


async def automatic_queues_served(
    session: AsyncSession, employee_ids: list[int]
) -> dict[int, set[int]]:
    """Automatic queues served by any of ``employee_ids``: queue id → those of them serving it."""
    rows = await session.execute(
        select(QueueAccess.queue_id, QueueAccess.employee_id)
        .join(QueueRouting, QueueRouting.queue_id == QueueAccess.queue_id)
        .where(QueueRouting.mode == MODE_AUTOMATIC)
        .where(QueueAccess.employee_id.in_(employee_ids))
    )
    served: dict[int, set[int]] = {}
    for queue_id, employee_id in rows:
        served.setdefault(queue_id, set()).add(employee_id)
    return served


async def oldest_waiting(
    session: AsyncSession, queue_ids: list[int], limit: int = 200
) -> list[ClientRequest]:
    return list(
        await session.scalars(
            select(ClientRequest)
            .where(ClientRequest.status == STATUS_WAITING)
            .where(ClientRequest.queue_id.in_(queue_ids))
            .order_by(ClientRequest.waiting_since, ClientRequest.id)
            .limit(limit)
        )
    )


async def queue_routing(session: AsyncSession, queue_id: int) -> QueueRouting:
    """The queue's routing (the defaults when it has none of its own)."""
    found = await session.get(QueueRouting, queue_id)
    return found or _defaults(queue_id)


def _defaults(queue_id: int) -> QueueRouting:
    return QueueRouting(
        queue_id=queue_id,
        mode=MODE_MANUAL,
        reassign_after_minutes=None,
        on_offline=ON_OFFLINE_KEEP,
        wait_amber_minutes=DEFAULT_WAIT_AMBER_MINUTES,
        wait_red_minutes=DEFAULT_WAIT_RED_MINUTES,
    )


async def queues_and_routings(
    session: AsyncSession, queue_ids: set[int]
) -> tuple[dict[int, Queue], dict[int, QueueRouting]]:
    """The queues and each one's routing (the defaults for those with none of their own), in
    one query: a request card needs both."""
    queues: dict[int, Queue] = {}
    found: dict[int, QueueRouting] = {}
    if queue_ids:
        rows = await session.execute(
            select(Queue, QueueRouting)
            .outerjoin(QueueRouting, QueueRouting.queue_id == Queue.id)
            .where(Queue.id.in_(queue_ids))
        )
        for queue, routing in rows:
            queues[queue.id] = queue
            if routing is not None:
                found[queue.id] = routing
    return queues, {queue_id: found.get(queue_id) or _defaults(queue_id) for queue_id in queue_ids}


# How many of a queue's latest waits the expected wait is the median of.
RECENT_WAITS = 50


async def expected_wait_seconds(session: AsyncSession, queue_id: int) -> int | None:
    """The median of the queue's latest waits from entering it to being taken; None when it
    has none to go by."""
    rows = list(
        await session.execute(
            select(ClientRequest.waiting_since, ClientRequest.assigned_at)
            .where(ClientRequest.taken_from_queue_id == queue_id)
            .where(ClientRequest.assigned_at.is_not(None))
            .where(ClientRequest.waiting_since.is_not(None))
            .order_by(ClientRequest.assigned_at.desc())
            .limit(RECENT_WAITS)
        )
    )
    waits = sorted(
        max(0.0, (assigned - since).total_seconds())
        for since, assigned in rows
        if assigned and since
    )
    if not waits:
        return None
    middle = len(waits) // 2
    median = waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
    return round(median)


async def waiting_in_order(session: AsyncSession, queue_id: int) -> list[ClientRequest]:
    """The queue's waiting requests, first come first."""
    return list(
        await session.scalars(
            select(ClientRequest)
            .where(ClientRequest.status == STATUS_WAITING)
            .where(ClientRequest.queue_id == queue_id)
            .order_by(ClientRequest.waiting_since, ClientRequest.id)
        )
    )


async def position_in_queue(session: AsyncSession, request: ClientRequest) -> int | None:
    """1 for the next request to be taken; None for one not waiting."""
    if request.status != STATUS_WAITING or request.queue_id is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(ClientRequest)
        .where(ClientRequest.status == STATUS_WAITING)
        .where(ClientRequest.queue_id == request.queue_id)
        .where(
            (ClientRequest.waiting_since < request.waiting_since)
            | (
                (ClientRequest.waiting_since == request.waiting_since)
                & (ClientRequest.id < request.id)
            )
        )
    )
    return (ahead or 0) + 1


async def schedule_of(session: AsyncSession, resource_id: int) -> Schedule | None:
    """The resource's business hours; None when it works around the clock."""
    hours = await session.get(BusinessHours, resource_id)
    if hours is None or not hours.enabled:
        return None
    return Schedule(
        time_zone=hours.time_zone,
        week=[[(start, end) for start, end in day] for day in hours.week],
        days_off=frozenset(date.fromisoformat(d) for d in hours.days_off),
    )
