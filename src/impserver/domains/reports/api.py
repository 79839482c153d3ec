from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.reports import archive, figures, live
from impserver.domains.reports.schemas import (
    ArchiveChoices,
    ArchiveDetail,
    ArchiveFilters,
    ArchivePage,
    LiveView,
    ReportFilters,
    TeamReport,
)
from impserver.domains.reports.scope import ensure_oversees, supervised_resources
from impserver.domains.rooms.messaging import history_page
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services, get_services

router = api_router("/api", "archive")

RequestId = Path(ge=1, le=LARGEST_ID)


@router.get("/archive", response_model=ArchivePage)
async def list_archive(
    filters: Annotated[ArchiveFilters, Query()],
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> ArchivePage:
    """Every request the viewer may see (administrators: all; employees: those they took part
    in), newest first, narrowed by the filters and paged."""
    async with services.db.read() as session:
        return await archive.archive_page(session, employee, filters)


@router.get("/reports/team", response_model=TeamReport)
async def team_report(
    filters: Annotated[ReportFilters, Query()],
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> TeamReport:
    """The team's figures for a period (whole days in ``tz``), optionally for one resource,
    queue or employee: volume, first response, resolution, time in the queue, ratings, each
    employee's share, and requests by hour and day of week. Administrators: of every
    resource; supervisors: of the resources whose queues they serve (403 for another)."""
    ensure_oversees(employee)
    async with services.db.read() as session:
        allowed = await supervised_resources(session, employee)
        return await figures.team_report(session, filters, allowed)


@router.get("/reports/live", response_model=LiveView)
async def live_view(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> LiveView:
    """The team right now: per queue how many wait and since when the longest; per employee
    their status and how many requests they hold. Administrators: every resource;
    supervisors: theirs. ``queue.load`` and ``employee.status`` events say when to read it
    again."""
    ensure_oversees(employee)
    async with services.db.read() as session:
        return await live.live_view(session, await supervised_resources(session, employee))


@router.get("/archive/choices", response_model=ArchiveChoices)
async def archive_choices(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> ArchiveChoices:
    """What the archive's filters offer the viewer."""
    async with services.db.read() as session:
        return await archive.archive_choices(session, employee)


@router.get("/archive/{request_id}", response_model=ArchiveDetail)
async def read_archived(
    request_id: int = RequestId,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> ArchiveDetail:
    """One request, read only: its facts, its rating and its newest history."""
    async with services.db.read() as session:
        return await archive.archive_detail(session, employee, request_id)


@router.get("/archive/{request_id}/messages", response_model=list[MessageRead])
async def archived_history(
    request_id: int = RequestId,
    before_id: int | None = Query(default=None, ge=1),
    limit: int = Query(default=100, ge=1, le=100),
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> list[MessageRead]:
    """Older pages of an archived request's history."""
    async with services.db.read() as session:
        request = await archive.archived_request(session, employee, request_id)
        return await history_page(session, request.room_id, before_id=before_id, limit=limit)
