from __future__ import annotations

from fastapi import Depends, Path

from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.replies import actions, queries
from impserver.domains.replies.schemas import CannedReplyRead, CannedReplyWrite
from impserver.services import Services, get_services

router = api_router("/api", "canned replies")

ReplyId = Path(ge=1, le=LARGEST_ID)


@router.get("/replies", response_model=list[CannedReplyRead])
async def list_replies(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> list[CannedReplyRead]:
    """The canned replies this employee may insert: their own, the shared ones for everyone,
    and those of the resources they serve. A request's composer offers those of its resource."""
    async with services.db.read() as session:
        return await queries.visible_replies(session, employee)


@router.post("/replies", response_model=CannedReplyRead, status_code=201)
async def create_reply(
    data: CannedReplyWrite,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CannedReplyRead:
    return await actions.create_reply(services, employee, data)


@router.put("/replies/{reply_id}", response_model=CannedReplyRead)
async def update_reply(
    data: CannedReplyWrite,
    reply_id: int = ReplyId,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CannedReplyRead:
    return await actions.update_reply(services, employee, reply_id, data)


@router.delete("/replies/{reply_id}", status_code=204)
async def delete_reply(
    reply_id: int = ReplyId,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.delete_reply(services, employee, reply_id)
