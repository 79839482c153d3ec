from __future__ import annotations

from fastapi import Depends, Request, Response, status

from impserver.core.errors import NotFound
from impserver.core.http import UPLOAD_BODY_BYTES, api_router, client_ip
from impserver.core.storage import Download
from impserver.domains.accounts import actions, queries
from impserver.domains.accounts.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Authenticated,
    current_admin,
    current_auth,
    current_employee,
)
from impserver.domains.accounts.avatars import AVATAR_TYPE
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
from impserver.domains.rooms.api import UPLOAD_REQUEST_BODY, uploaded_file
from impserver.domains.rooms.files import FILE_CSP
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


@router.put(
    "/me/avatar",
    response_model=MeRead,
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
    max_body_size=UPLOAD_BODY_BYTES,
)
async def set_avatar(
    request: Request,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MeRead:
    """The employee's photo, from a PNG, JPEG, WebP or GIF picture (multipart field ``file``):
    its middle square is kept, small; ``avatar_url`` is its new address."""
    async with uploaded_file(request, services, limit=services.settings.avatar_max_bytes) as file:
        return await actions.set_avatar(services, employee, file.file)


@router.delete("/me/avatar", response_model=MeRead)
async def remove_avatar(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> MeRead:
    return await actions.remove_avatar(services, employee)


# The address changes with every photo, so what is fetched once never goes stale.
_AVATAR_DOWNLOAD = Download(
    media_type=AVATAR_TYPE,
    headers={
        "Content-Disposition": "inline",
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP,
    },
)


@router.get("/avatars/{key:path}", response_class=Response)
async def read_avatar(
    key: str, request: Request, services: Services = Depends(get_services)
) -> Response:
    """An employee's photo, to anyone with its address: clients see it beside replies without
    signing in. Only a current photo answers; a replaced or removed one is 404."""
    async with services.db.read() as session:
        current = await queries.is_current_avatar(session, key)
    if not current:
        raise NotFound("There is no such photo.", code="avatar_not_found")
    # Streamed, never redirected to the storage: the widget loads pictures from IMP only, and
    # a storage address would expire long before the cache does.
    return await services.files.respond(key, _AVATAR_DOWNLOAD, request.headers, may_redirect=False)


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
