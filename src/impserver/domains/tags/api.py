from __future__ import annotations

from fastapi import Depends, Path

from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_admin, current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.tags import actions, queries
from impserver.domains.tags.schemas import TagRead, TagWrite
from impserver.services import Services, get_services

router = api_router("/api", "tags")
admin_router = api_router("/api/admin", "administration")

TagId = Path(ge=1, le=LARGEST_ID)


@router.get("/tags", response_model=list[TagRead])
async def list_tags(
    _: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> list[TagRead]:
    """Every tag, by name: what can be put on a request and filtered by."""
    async with services.db.read() as session:
        return await queries.all_tags(session)


@admin_router.post("/tags", response_model=TagRead, status_code=201)
async def create_tag(
    data: TagWrite,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> TagRead:
    return await actions.create_tag(services, admin, data)


@admin_router.put("/tags/{tag_id}", response_model=TagRead)
async def update_tag(
    data: TagWrite,
    tag_id: int = TagId,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> TagRead:
    return await actions.update_tag(services, admin, tag_id, data)


@admin_router.delete("/tags/{tag_id}", status_code=204)
async def delete_tag(
    tag_id: int = TagId,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> None:
    """Remove the tag, and with it from every request that carried it."""
    await actions.delete_tag(services, admin, tag_id)
