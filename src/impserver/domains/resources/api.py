from __future__ import annotations

from fastapi import Depends, Response

from impserver.core.http import api_router
from impserver.domains.accounts.auth import current_admin, current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.resources import actions, queries
from impserver.domains.resources.models import KIND_TELEGRAM
from impserver.domains.resources.schemas import (
    GroupCreate,
    GroupMembersUpdate,
    GroupRead,
    GroupUpdate,
    IdentitySecretRead,
    QueueCreate,
    QueueRead,
    QueueUpdate,
    ResourceCreate,
    ResourceRead,
    ResourceUpdate,
    ServedQueueRead,
    TelegramResourceCreate,
)
from impserver.services import Services, get_services

router = api_router("/api", "resources")
admin_router = api_router("/api/admin", "administration")


@router.get("/queues", response_model=list[ServedQueueRead])
async def list_served_queues(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> list[ServedQueueRead]:
    """The queues the calling employee serves."""
    async with services.db.read() as session:
        return await queries.served_queues(session, employee.id)


@admin_router.get("/resources", response_model=list[ResourceRead])
async def list_resources(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> list[ResourceRead]:
    async with services.db.read() as session:
        return await queries.resource_reads(session)


@admin_router.post("/resources", response_model=ResourceRead, status_code=201)
async def create_resource(
    data: ResourceCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> ResourceRead:
    return await actions.create_resource(services, admin, data)


@admin_router.post("/resources/telegram", response_model=ResourceRead, status_code=201)
async def create_telegram_resource(
    data: TelegramResourceCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> ResourceRead:
    """Connect a Telegram bot by its token (checked with Telegram first)."""
    return await actions.connect_messenger(services, admin, KIND_TELEGRAM, data)


@admin_router.patch("/resources/{resource_id}", response_model=ResourceRead)
async def update_resource(
    resource_id: int,
    data: ResourceUpdate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> ResourceRead:
    return await actions.update_resource(services, admin, resource_id, data)


@admin_router.delete("/resources/{resource_id}", status_code=204)
async def delete_resource(
    resource_id: int,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> None:
    await actions.delete_resource(services, admin, resource_id)


@admin_router.get("/resources/{resource_id}/identity-secret", response_model=IdentitySecretRead)
async def read_identity_secret(
    resource_id: int,
    response: Response,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> IdentitySecretRead:
    """The website's identity secret, with which its server computes IMP.setUser's hash."""
    response.headers["Cache-Control"] = "no-store"
    return await actions.identity_secret(services, admin, resource_id)


@admin_router.post("/resources/{resource_id}/identity-secret", response_model=IdentitySecretRead)
async def regenerate_identity_secret(
    resource_id: int,
    response: Response,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> IdentitySecretRead:
    """A new identity secret; hashes made with the old one stop verifying anyone, and verified
    visitors start again until the site vouches for them with the new one."""
    response.headers["Cache-Control"] = "no-store"
    return await actions.regenerate_identity_secret(services, admin, resource_id)


@admin_router.post("/resources/{resource_id}/queues", response_model=QueueRead, status_code=201)
async def create_queue(
    resource_id: int,
    data: QueueCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> QueueRead:
    return await actions.create_queue(services, admin, resource_id, data)


@admin_router.patch("/queues/{queue_id}", response_model=QueueRead)
async def update_queue(
    queue_id: int,
    data: QueueUpdate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> QueueRead:
    return await actions.update_queue(services, admin, queue_id, data)


@admin_router.delete("/queues/{queue_id}", status_code=204)
async def delete_queue(
    queue_id: int,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> None:
    await actions.delete_queue(services, admin, queue_id)


@admin_router.get("/groups", response_model=list[GroupRead])
async def list_groups(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> list[GroupRead]:
    async with services.db.read() as session:
        return await queries.group_reads(session)


@admin_router.post("/groups", response_model=GroupRead, status_code=201)
async def create_group(
    data: GroupCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> GroupRead:
    return await actions.create_group(services, admin, data)


@admin_router.patch("/groups/{group_id}", response_model=GroupRead)
async def rename_group(
    group_id: int,
    data: GroupUpdate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> GroupRead:
    return await actions.rename_group(services, admin, group_id, data.name)


@admin_router.delete("/groups/{group_id}", status_code=204)
async def delete_group(
    group_id: int,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> None:
    await actions.delete_group(services, admin, group_id)


@admin_router.put("/groups/{group_id}/members", response_model=GroupRead)
async def set_group_members(
    group_id: int,
    data: GroupMembersUpdate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> GroupRead:
    return await actions.set_group_members(services, admin, group_id, data.employee_ids)
