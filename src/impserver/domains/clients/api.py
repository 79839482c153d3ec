from __future__ import annotations

from datetime import datetime

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import select

from impserver.core.http import api_router
from impserver.domains.accounts.auth import current_admin
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client
from impserver.domains.resources.models import Resource
from impserver.services import Services, get_services

admin_router = api_router("/api/admin", "administration")


class BlockedClient(BaseModel):
    id: int
    display_name: str
    resource_name: str
    blocked_at: datetime | None
    blocked_by: str | None
    reason: str


@admin_router.get("/blocked-clients", response_model=list[BlockedClient])
async def blocked_clients(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> list[BlockedClient]:
    async with services.db.read() as session:
        rows = await session.execute(
            select(Client, Resource.name, Employee.name)
            .join(Resource, Resource.id == Client.resource_id)
            .outerjoin(Employee, Employee.id == Client.blocked_by_id)
            .where(Client.is_blocked.is_(True))
            .order_by(Client.blocked_at.desc())
        )
        return [
            BlockedClient(
                id=client.id,
                display_name=client.display_name,
                resource_name=resource_name,
                blocked_at=client.blocked_at,
                blocked_by=blocked_by,
                reason=client.blocked_reason,
            )
            for client, resource_name, blocked_by in rows
        ]
