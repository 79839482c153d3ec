from __future__ import annotations

from fastapi import Depends, Query

from impserver.core.http import api_router
from impserver.domains.accounts.auth import current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.mentions import actions, queries
from impserver.domains.mentions.schemas import MentionList, MentionsMarkRead
from impserver.services import Services, get_services

router = api_router("/api", "mentions")


@router.get("/mentions", response_model=MentionList)
async def list_mentions(
    unread_only: bool = Query(default=False),
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MentionList:
    """The viewer's newest mentions, and how many of all of them are unread."""
    async with services.db.read() as session:
        return await queries.mentions_of(session, employee.id, unread_only=unread_only)


@router.post("/mentions/read", status_code=204)
async def mark_read(
    data: MentionsMarkRead,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.mark_read(services, employee, data.ids, everything=data.all)
