"""Routing: employees' availability, and waiting requests given out to whoever is free."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from impserver.core.clock import utcnow
from impserver.core.errors import NotFound
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.requests import actions as requests_actions
from impserver.domains.requests.models import STATUS_ASSIGNED, ClientRequest, RequestDecline
from impserver.domains.resources.models import Queue, Resource
from impserver.domains.routing import queries
from impserver.domains.routing.events import EmployeeStatusChanged
from impserver.domains.routing.models import (
    ON_OFFLINE_RETURN,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Availability,
    BusinessHours,
    QueueRouting,
    RoutingDefaults,
)
from impserver.realtime.events import Audience
from impserver.services import Services

# Before any time a request was given out: first in a fair rotation.
NEVER = datetime.min.replace(tzinfo=UTC)

# -- availability -----------------------------------------------------------------------------


async def _availability(uow: UnitOfWork, employee_id: int) -> Availability:
    found = await uow.session.get(Availability, employee_id)
    if found is None:
        found = Availability(employee_id=employee_id, status=STATUS_OFFLINE, chosen_by_hand=False)
        uow.session.add(found)
    return found


async def _change_status(
    services: Services, uow: UnitOfWork, availability: Availability, status: str, *, by_hand: bool
) -> None:
    changed = availability.status != status
    availability.status = status
    availability.chosen_by_hand = by_hand
    if not changed:
        return
    availability.changed_at = utcnow()
    uow.emit(
        EmployeeStatusChanged(employee_id=availability.employee_id, status=status),
        Audience.employees(await queries.active_employee_ids(uow.session)),
    )
    if status == STATUS_ONLINE:
        services.routing_may_move(uow)
    if status == STATUS_OFFLINE:
        await _return_requests_of_offline(uow, availability.employee_id)


async def _return_requests_of_offline(uow: UnitOfWork, employee_id: int) -> None:
    """An employee went Offline: their open requests of queues that say so go back."""
    held = list(
        await uow.session.scalars(
            select(ClientRequest)
            .where(ClientRequest.status == STATUS_ASSIGNED)
            .where(ClientRequest.assignee_id == employee_id)
            .order_by(ClientRequest.id)
        )
    )
    for request in held:
        queue_id = request.taken_from_queue_id or request.queue_id
        if queue_id is None:
            continue
        routing = await queries.queue_routing(uow.session, queue_id)
        if routing.on_offline == ON_OFFLINE_RETURN:
            await requests_actions.take_back(uow, request, "returned_offline")


async def set_status(
    services: Services, employee_id: int, status: str, *, by_hand: bool
) -> Availability:
    """The employee chose a status (``by_hand``), or their workspace saw them go idle or come
    back: a status chosen by hand is not changed by idleness or activity."""
    async with services.db.transaction() as uow:
        availability = await _availability(uow, employee_id)
        if by_hand or not availability.chosen_by_hand:
            await _change_status(services, uow, availability, status, by_hand=by_hand)
        availability.seen_at = utcnow()
        return availability


async def workspace_opened(services: Services, employee_id: int) -> None:
    """A workspace tab connected: the employee is seen, and Online unless they chose otherwise."""
    async with services.db.transaction() as uow:
        availability = await _availability(uow, employee_id)
        availability.seen_at = utcnow()
        if availability.status == STATUS_OFFLINE and not availability.chosen_by_hand:
            await _change_status(services, uow, availability, STATUS_ONLINE, by_hand=False)


async def still_seen(services: Services, employee_ids: list[int]) -> None:
    """The instance holding these employees' sockets says they are still there."""
    if not employee_ids:
        return
    async with services.db.transaction() as uow:
        await uow.session.execute(
            update(Availability)
            .where(Availability.employee_id.in_(employee_ids))
            .values(seen_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def mark_gone_offline(services: Services, limit: int = 100) -> int:
    """Employees no instance has seen a tab of for the grace period are Offline; how many."""
    cutoff = utcnow() - timedelta(seconds=services.settings.offline_grace_seconds)
    async with services.db.transaction() as uow:
        query = (
            select(Availability)
            .where(Availability.status != STATUS_OFFLINE)
            .where((Availability.seen_at.is_(None)) | (Availability.seen_at < cutoff))
            .limit(limit)
        )
        gone = list(await uow.session.scalars(uow.claim(query)))
        for availability in gone:
            await _change_status(services, uow, availability, STATUS_OFFLINE, by_hand=False)
        return len(gone)


# -- giving requests out ----------------------------------------------------------------------


async def assign_next(services: Services) -> bool:
    """Give the oldest waiting request of an Automatic queue to the least busy Online employee
    serving it who has a free slot (of equally busy ones, whoever was given one longest ago).
    One request per transaction; False when there is none to give or nobody to give it to."""
    async with services.db.transaction() as uow:
        await queries.hold_routing_lock(uow)
        free = await queries.free_online_employees(uow.session)
        if not free:
            return False
        served = await queries.automatic_queues_served(uow.session, [c.employee_id for c in free])
        if not served:
            return False
        by_id = {c.employee_id: c for c in free}
        for request in await queries.oldest_waiting(uow.session, list(served)):
            assert request.queue_id is not None
            declined = set(
                await uow.session.scalars(
                    select(RequestDecline.employee_id).where(
                        RequestDecline.request_id == request.id
                    )
                )
            )
            options = [by_id[e] for e in served[request.queue_id] if e not in declined]
            if not options:
                continue
            chosen = min(
                options,
                key=lambda c: (c.open, c.last_assigned_at or NEVER, c.employee_id),
            )
            employee = await uow.session.get(Employee, chosen.employee_id)
            assert employee is not None
            if not await requests_actions.give_to(uow, request, employee):
                continue
            availability = await _availability(uow, employee.id)
            availability.last_assigned_at = utcnow()
            return True
        return False


async def reassign_silent(services: Services, limit: int = 50) -> int:
    """Requests whose assignee has left a waiting client unanswered for their queue's
    "reassign after" time go back to it, not to be offered to that assignee again."""
    now = utcnow()
    async with services.db.transaction() as uow:
        due = (
            select(ClientRequest, QueueRouting.reassign_after_minutes)
            .join(QueueRouting, QueueRouting.queue_id == ClientRequest.taken_from_queue_id)
            .where(ClientRequest.status == STATUS_ASSIGNED)
            .where(ClientRequest.awaiting_reply_since.is_not(None))
            .where(QueueRouting.reassign_after_minutes.is_not(None))
            .order_by(ClientRequest.awaiting_reply_since)
            .limit(limit)
        )
        if uow.session.get_bind().dialect.name == "postgresql":
            # Each request once across instances; the queue's settings row is not locked.
            due = due.with_for_update(skip_locked=True, of=ClientRequest)
        candidates = list(await uow.session.execute(due))
        moved = 0
        for request, minutes in candidates:
            allowed = timedelta(minutes=minutes or 0)
            assert request.awaiting_reply_since is not None and request.assigned_at is not None
            # The assignee gets the whole time from when the request became theirs.
            if max(request.awaiting_reply_since, request.assigned_at) + allowed > now:
                continue
            await requests_actions.take_back(
                uow, request, "reassigned_silence", keep_from_assignee=True
            )
            moved += 1
        if moved:
            services.routing_may_move(uow)
        return moved


# -- settings ---------------------------------------------------------------------------------


async def update_queue_routing(
    services: Services,
    queue_id: int,
    *,
    mode: str,
    reassign_after_minutes: int | None,
    on_offline: str,
    wait_amber_minutes: int,
    wait_red_minutes: int,
) -> QueueRouting:
    async with services.db.transaction() as uow:
        queue = await uow.session.get(Queue, queue_id)
        if queue is None or queue.archived_at is not None:
            raise NotFound("Queue not found.", code="queue_not_found")
        routing = await uow.session.get(QueueRouting, queue_id)
        if routing is None:
            routing = QueueRouting(queue_id=queue_id)
            uow.session.add(routing)
        routing.mode = mode
        routing.reassign_after_minutes = reassign_after_minutes
        routing.on_offline = on_offline
        routing.wait_amber_minutes = wait_amber_minutes
        routing.wait_red_minutes = wait_red_minutes
        services.routing_may_move(uow)
        return routing


async def update_capacities(
    services: Services, default_capacity: int | None, by_employee: dict[int, int | None]
) -> None:
    async with services.db.transaction() as uow:
        defaults = await uow.session.get(RoutingDefaults, 1)
        if defaults is None:
            defaults = RoutingDefaults(id=1)
            uow.session.add(defaults)
        defaults.default_capacity = default_capacity
        for employee_id, capacity in by_employee.items():
            if await uow.session.get(Employee, employee_id) is None:
                raise NotFound("Employee not found.", code="employee_not_found")
            availability = await _availability(uow, employee_id)
            availability.capacity = capacity
        services.routing_may_move(uow)


async def set_business_hours(
    services: Services,
    resource_id: int,
    *,
    enabled: bool,
    time_zone: str,
    week: list[list[list[str]]],
    days_off: list[date],
) -> BusinessHours:
    async with services.db.transaction() as uow:
        resource = await uow.session.get(Resource, resource_id)
        if resource is None or resource.deleted_at is not None:
            raise NotFound("Resource not found.", code="resource_not_found")
        hours = await uow.session.get(BusinessHours, resource_id)
        if hours is None:
            hours = BusinessHours(resource_id=resource_id)
            uow.session.add(hours)
        hours.enabled = enabled
        hours.time_zone = time_zone
        hours.week = [[[start, end] for start, end in day] for day in week]
        hours.days_off = sorted({d.isoformat() for d in days_off})
        return hours
