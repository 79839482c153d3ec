from __future__ import annotations

from fastapi import Depends, Path
from sqlalchemy import or_, select

from impserver.core.clock import utcnow
from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_admin
from impserver.domains.accounts.models import Employee
from impserver.domains.blocking import actions
from impserver.domains.blocking.models import BlockPart
from impserver.domains.blocking.queries import in_force
from impserver.domains.blocking.schemas import BlockPartRead, BlockRead
from impserver.domains.clients.models import Client
from impserver.domains.resources.models import Resource
from impserver.services import Services, get_services

admin_router = api_router("/api/admin", "administration")


@admin_router.get("/blocked-clients", response_model=list[BlockRead])
async def blocked_clients(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> list[BlockRead]:
    """Every blocked client, or one with a part of their block still in force, and what each
    part covers until when."""
    now = utcnow()
    async with services.db.read() as session:
        rows = list(
            await session.execute(
                select(Client, Resource.name, Employee.name)
                .join(Resource, Resource.id == Client.resource_id)
                .outerjoin(Employee, Employee.id == Client.blocked_by_id)
                .where(
                    or_(
                        Client.is_blocked.is_(True),
                        Client.id.in_(select(BlockPart.client_id).where(in_force(now))),
                    )
                )
                .order_by(Client.blocked_at.desc(), Client.id.desc())
            )
        )
        parts = list(
            await session.scalars(
                select(BlockPart)
                .where(BlockPart.client_id.in_([client.id for client, _, _ in rows]))
                .where(BlockPart.lifted_at.is_(None))
                .order_by(BlockPart.id)
            )
        )
    by_client: dict[int, list[BlockPartRead]] = {}
    for part in parts:
        active = part.until is None or part.until > now
        by_client.setdefault(part.client_id, []).append(
            BlockPartRead(
                id=part.id,
                part=part.part,
                value=part.value,
                until=part.until,
                refused=part.refused,
                active=active,
            )
        )
    return [
        BlockRead(
            id=client.id,
            display_name=client.display_name,
            resource_name=resource_name,
            blocked_at=client.blocked_at,
            blocked_by=blocked_by,
            reason=client.blocked_reason,
            parts=by_client.get(client.id, []),
        )
        for client, resource_name, blocked_by in rows
    ]


@admin_router.post("/block-parts/{part_id}/lift", status_code=204)
async def lift_part(
    part_id: int = Path(ge=1, le=LARGEST_ID),
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> None:
    await actions.lift_part(services, admin, part_id)
