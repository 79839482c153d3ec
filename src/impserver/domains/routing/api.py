from __future__ import annotations

from datetime import date

from fastapi import Depends, Path
from sqlalchemy import select

from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_admin, current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.routing import actions, queries
from impserver.domains.routing.models import Availability, BusinessHours
from impserver.domains.routing.schemas import (
    Availabilities,
    BusinessHoursBody,
    CapacityRead,
    CapacityUpdate,
    ColleagueStatus,
    EmployeeCapacity,
    MyStatus,
    QueueRoutingRead,
    QueueRoutingUpdate,
    StatusUpdate,
)
from impserver.realtime.gateway import Connection, Gateway
from impserver.services import Services, get_services

router = api_router("/api", "routing")
admin_router = api_router("/api/admin", "administration")


@router.get("/availability", response_model=Availabilities)
async def availabilities(
    me: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> Availabilities:
    """Every colleague's status (Online, Away, Offline)."""
    async with services.db.read() as session:
        found = await queries.statuses(session)
        own = await session.get(Availability, me.id)
    return Availabilities(
        away_after_minutes=services.settings.away_after_minutes,
        mine=MyStatus(
            status=own.status if own else "offline",
            chosen_by_hand=own.chosen_by_hand if own else False,
        ),
        employees=[ColleagueStatus(employee_id=i, status=s) for i, s in found.items()],
    )


@router.put("/me/availability", response_model=MyStatus)
async def set_my_status(
    body: StatusUpdate,
    me: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MyStatus:
    """Choose a status (``by_hand``), or report idleness and activity (never overriding one
    chosen by hand)."""
    availability = await actions.set_status(services, me.id, body.status, by_hand=body.by_hand)
    return MyStatus(status=availability.status, chosen_by_hand=availability.chosen_by_hand)


@admin_router.get("/queues/{queue_id}/routing", response_model=QueueRoutingRead)
async def queue_routing(
    queue_id: int = Path(ge=1, le=LARGEST_ID),
    _: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> QueueRoutingRead:
    async with services.db.read() as session:
        routing = await queries.queue_routing(session, queue_id)
    return QueueRoutingRead.model_validate(routing, from_attributes=True)


@admin_router.put("/queues/{queue_id}/routing", response_model=QueueRoutingRead)
async def update_queue_routing(
    body: QueueRoutingUpdate,
    queue_id: int = Path(ge=1, le=LARGEST_ID),
    _: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> QueueRoutingRead:
    """Manual ("Принять") or Automatic routing, reassigning after silence, and what happens to
    an employee's requests of this queue when they go Offline."""
    routing = await actions.update_queue_routing(
        services,
        queue_id,
        mode=body.mode,
        reassign_after_minutes=body.reassign_after_minutes,
        on_offline=body.on_offline,
        wait_amber_minutes=body.wait_amber_minutes,
        wait_red_minutes=body.wait_red_minutes,
    )
    return QueueRoutingRead.model_validate(routing, from_attributes=True)


async def _capacities(services: Services) -> CapacityRead:
    async with services.db.read() as session:
        default = await queries.default_capacity(session)
        rows = list(
            await session.execute(
                select(Employee.id, Availability.capacity)
                .outerjoin(Availability, Availability.employee_id == Employee.id)
                .where(Employee.is_active.is_(True))
                .order_by(Employee.id)
            )
        )
        found = await queries.statuses(session)
        held = await queries.open_counts(session)
    return CapacityRead(
        default_capacity=default,
        employees=[
            EmployeeCapacity(
                employee_id=employee_id,
                capacity=capacity,
                status=found.get(employee_id, "offline"),
                open_requests=held.get(employee_id, 0),
            )
            for employee_id, capacity in rows
        ],
    )


@admin_router.get("/capacity", response_model=CapacityRead)
async def capacities(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> CapacityRead:
    """How many open requests each employee may hold at once (their own value or the
    default), with their status and what they hold now."""
    return await _capacities(services)


@admin_router.put("/capacity", response_model=CapacityRead)
async def update_capacities(
    body: CapacityUpdate,
    _: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> CapacityRead:
    await actions.update_capacities(
        services, body.default_capacity, {e.employee_id: e.capacity for e in body.employees}
    )
    return await _capacities(services)


def _hours_read(hours: BusinessHours | None) -> BusinessHoursBody:
    if hours is None:
        return BusinessHoursBody()
    return BusinessHoursBody(
        enabled=hours.enabled,
        time_zone=hours.time_zone,
        week=hours.week,
        days_off=[date.fromisoformat(d) for d in hours.days_off],
    )


@admin_router.get("/resources/{resource_id}/hours", response_model=BusinessHoursBody)
async def business_hours(
    resource_id: int = Path(ge=1, le=LARGEST_ID),
    _: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> BusinessHoursBody:
    async with services.db.read() as session:
        return _hours_read(await session.get(BusinessHours, resource_id))


@admin_router.put("/resources/{resource_id}/hours", response_model=BusinessHoursBody)
async def set_business_hours(
    body: BusinessHoursBody,
    resource_id: int = Path(ge=1, le=LARGEST_ID),
    _: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> BusinessHoursBody:
    """When the team is at work: outside these hours the widget offers the offline form and a
    new request is marked as written outside hours."""
    hours = await actions.set_business_hours(
        services,
        resource_id,
        enabled=body.enabled,
        time_zone=body.time_zone,
        week=body.week,
        days_off=body.days_off,
    )
    return _hours_read(hours)


def register_socket_hooks(gateway: Gateway, services: Services) -> None:
    async def workspace_opened(connection: Connection) -> None:
        if connection.employee_id is not None:
            await actions.workspace_opened(services, connection.employee_id)

    gateway.on_connect.append(workspace_opened)
