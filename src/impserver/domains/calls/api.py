from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends
from pydantic import BaseModel, ConfigDict

from impserver.channels.widget.visitors import Visitor, current_visitor
from impserver.core.errors import Forbidden, InvalidInput, NotFound
from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.calls import actions
from impserver.domains.calls.actions import Party
from impserver.domains.calls.events import CobrowseControl, CobrowseFrames
from impserver.domains.calls.schemas import CallConfig, CallInvite, CallRead
from impserver.realtime.gateway import Connection, Gateway
from impserver.services import Services, get_services

router = api_router("/api", "calls")


class CallResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    response: Literal["allow", "accept", "decline"]


def _config(services: Services) -> CallConfig:
    return CallConfig(ice_servers=services.settings.ice_servers)


@router.get("/calls/config", response_model=CallConfig)
async def employee_config(
    _: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> CallConfig:
    return _config(services)


@router.post("/requests/{request_id}/calls", response_model=CallRead, status_code=201)
async def invite(
    request_id: int,
    data: CallInvite,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CallRead:
    return await actions.invite(services, employee, request_id, data.kind)


@router.get("/requests/{request_id}/calls/active", response_model=CallRead | None)
async def active(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CallRead | None:
    call = await actions.active_call(services, request_id)
    return call if call is not None and call.request_id == request_id else None


@router.post("/calls/{call_id}/connected", response_model=CallRead)
async def employee_connected(
    call_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CallRead:
    return await actions.mark_connected(services, Party("employee", employee.id), call_id)


@router.post("/calls/{call_id}/hangup", response_model=CallRead)
async def employee_hangup(
    call_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CallRead:
    return await actions.hang_up(services, Party("employee", employee.id), call_id)


@router.get("/widget/calls/config", response_model=CallConfig)
async def visitor_config(
    _: Visitor = Depends(current_visitor), services: Services = Depends(get_services)
) -> CallConfig:
    return _config(services)


@router.get("/widget/calls/active", response_model=CallRead | None)
async def visitor_active(
    visitor: Visitor = Depends(current_visitor), services: Services = Depends(get_services)
) -> CallRead | None:
    return await actions.active_call_of_client(services, visitor.client.id)


@router.post("/widget/calls/{call_id}/respond", response_model=CallRead)
async def visitor_respond(
    call_id: int,
    data: CallResponse,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> CallRead:
    return await actions.respond(
        services, Party("client", visitor.client.id), call_id, data.response
    )


@router.post("/widget/calls/{call_id}/connected", response_model=CallRead)
async def visitor_connected(
    call_id: int,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> CallRead:
    return await actions.mark_connected(services, Party("client", visitor.client.id), call_id)


@router.post("/widget/calls/{call_id}/hangup", response_model=CallRead)
async def visitor_hangup(
    call_id: int,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> CallRead:
    return await actions.hang_up(services, Party("client", visitor.client.id), call_id)


def party_of(connection: Connection) -> Party:
    if connection.employee_id is not None:
        return Party("employee", connection.employee_id)
    assert connection.client_id is not None
    return Party("client", connection.client_id)


def _call_id(frame: dict[str, Any], command: str) -> int:
    call_id = frame.get("call_id")
    # bool is an int in Python; a call id is not.
    if type(call_id) is not int or not isinstance(frame.get("data"), dict):
        raise InvalidInput(f"{command} needs call_id and data.", code="call_command_invalid")
    if not 0 < call_id <= LARGEST_ID:
        raise NotFound(actions.CALL_NOT_FOUND, code="call_not_found")
    return call_id


def register_socket_commands(gateway: Gateway, services: Services) -> None:
    @gateway.command("call.signal")
    async def signal(connection: Connection, frame: dict[str, Any]) -> None:
        call_id = _call_id(frame, "call.signal")
        await actions.relay_signal(services, party_of(connection), call_id, frame["data"])

    @gateway.command("cobrowse.frames")
    async def frames(connection: Connection, frame: dict[str, Any]) -> None:
        if connection.client_id is None:
            raise Forbidden(
                "cobrowse.frames comes from the client's page only.",
                code="cobrowse_frames_client_only",
            )
        call_id = _call_id(frame, "cobrowse.frames")
        await actions.relay_signal(
            services,
            party_of(connection),
            call_id,
            frame["data"],
            event=CobrowseFrames,
            size=len(str(frame["data"])),
        )

    @gateway.command("cobrowse.control")
    async def control(connection: Connection, frame: dict[str, Any]) -> None:
        if connection.employee_id is None:
            raise Forbidden(
                "cobrowse.control comes from the employee only.",
                code="cobrowse_control_employee_only",
            )
        call_id = _call_id(frame, "cobrowse.control")
        await actions.relay_signal(
            services, party_of(connection), call_id, frame["data"], event=CobrowseControl
        )

    async def last_socket_closed(connection: Connection) -> None:
        await actions.party_disconnected(services, party_of(connection))

    async def socket_opened(connection: Connection) -> None:
        await actions.party_connected(services, party_of(connection))

    gateway.on_last_disconnect.append(last_socket_closed)
    gateway.on_connect.append(socket_opened)
