from __future__ import annotations

from fastapi import Depends, Request, Response, status

from impserver.core.http import api_router, client_ip
from impserver.domains.accounts import actions, queries
from impserver.domains.accounts.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Authenticated,
    current_admin,
    current_auth,
    current_employee,
)
from impserver.domains.accounts.models import Employee
from impserver.domains.accounts.schemas import (
    EmployeeBrief,
    EmployeeCreate,
    EmployeeRead,
    EmployeeUpdate,
    LoginRequest,
    MeRead,
    MeUpdate,
    PasswordReset,
    QueueAccessUpdate,
    SummaryRead,
)
from impserver.services import Services, get_services

router = api_router("/api", "accounts")
admin_router = api_router("/api/admin", "administration")


@router.post("/auth/login", response_model=MeRead)
async def log_in(
    data: LoginRequest,
    request: Request,
    response: Response,
    services: Services = Depends(get_services),
) -> MeRead:
    new = await actions.log_in(
        services, data, ip=client_ip(request), user_agent=request.headers.get("user-agent", "")
    )
    secure = services.settings.cookie_secure
    max_age = int(services.settings.session_max_days * 86400)
    response.set_cookie(
        SESSION_COOKIE, new.token, max_age=max_age, httponly=True, samesite="lax", secure=secure
    )
    # Readable by the page's script, which echoes it in a header: a cross-site form cannot.
    response.set_cookie(
        CSRF_COOKIE, new.csrf_token, max_age=max_age, httponly=False, samesite="lax", secure=secure
    )
    return MeRead.model_validate(new.employee)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(
    request: Request,
    response: Response,
    _: Authenticated = Depends(current_auth),
    services: Services = Depends(get_services),
) -> None:
    await actions.log_out(services, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.get("/me", response_model=MeRead)
async def read_me(employee: Employee = Depends(current_employee)) -> MeRead:
    return MeRead.model_validate(employee)


@router.patch("/me", response_model=MeRead)
async def update_me(
    data: MeUpdate,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MeRead:
    return await actions.update_preferences(services, employee, data)


@router.get("/me/summary", response_model=SummaryRead)
async def read_summary(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> SummaryRead:
    async with services.db.read() as session:
        return await queries.summary(session, employee.id)


@router.get("/employees", response_model=list[EmployeeBrief])
async def list_colleagues(
    _: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> list[EmployeeBrief]:
    async with services.db.read() as session:
        return await queries.colleagues(session)


@admin_router.get("/employees", response_model=list[EmployeeRead])
async def list_employees(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> list[EmployeeRead]:
    async with services.db.read() as session:
        return await queries.employee_reads(session)


@admin_router.post("/employees", response_model=EmployeeRead, status_code=201)
async def create_employee(
    data: EmployeeCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> EmployeeRead:
    return await actions.create_employee(services, admin, data)


@admin_router.patch("/employees/{employee_id}", response_model=EmployeeRead)
async def update_employee(
    employee_id: int,
    data: EmployeeUpdate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> EmployeeRead:
    return await actions.update_employee(services, admin, employee_id, data)


@admin_router.post("/employees/{employee_id}/password", status_code=204)
async def reset_password(
    employee_id: int,
    data: PasswordReset,
    auth: Authenticated = Depends(current_auth),
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> None:
    await actions.reset_password(
        services, admin, employee_id, data.password, keep_token_hash=auth.token_hash
    )


@admin_router.put("/employees/{employee_id}/queues", response_model=EmployeeRead)
async def set_queue_access(
    employee_id: int,
    data: QueueAccessUpdate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> EmployeeRead:
    return await actions.set_queue_access(services, admin, employee_id, data.queue_ids)
