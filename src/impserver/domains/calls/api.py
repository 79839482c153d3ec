from __future__ import annotations

from typing import Literal

from fastapi import Depends
from pydantic import BaseModel, ConfigDict

from impserver.channels.widget.visitors import Visitor, current_visitor, throttle
from impserver.core.errors import Forbidden, NotFound, TooManyRequests
from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.calls import actions
from impserver.domains.calls.actions import MAX_COBROWSE_BYTES, MAX_SIGNAL_BYTES, Party
from impserver.domains.calls.budget import RelayBudget, Verdict
from impserver.domains.calls.events import CallSignal, CobrowseControl, CobrowseFrames
from impserver.domains.calls.schemas import (
    CallAnswer,
    CallConfig,
    CallInvite,
    CallRead,
    CallSignalCommand,
    ClientCallStart,
    ClientScreenAction,
    CobrowseControlCommand,
    CobrowseFramesCommand,
    EmployeeScreenAction,
)
from impserver.domains.requests.actions import visible_request
from impserver.realtime.gateway import Connection, Gateway
from impserver.services import Services, get_services

router = api_router("/api", "calls")

# A client's calls: a person calls a few times in a row at most; more is a script ringing the
# employee's workspace over and over.
CLIENT_CALLS_PER_MINUTE = 10


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
    if not 0 < request_id <= LARGEST_ID:
        raise NotFound("Request not found.", code="request_not_found")
    # Seen by whoever may see the request itself (its assignee, or those serving its queue
    # while it waits), as every other read of a request.
    async with services.db.read() as session:
        await visible_request(session, employee.id, request_id)
    return await actions.active_call(services, request_id)


@router.post("/calls/{call_id}/answer", response_model=CallRead)
async def employee_answer(
    call_id: int,
    data: CallAnswer,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CallRead:
    return await actions.answer(services, employee, _call_id(call_id), data.response)


@router.post("/calls/{call_id}/screen", response_model=CallRead)
async def employee_screen(
    call_id: int,
    data: EmployeeScreenAction,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> CallRead:
    party = Party("employee", employee.id)
    return await actions.change_screen(services, party, _call_id(call_id), data.action)


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


@router.post("/widget/calls", response_model=CallRead, status_code=201)
async def visitor_call(
    data: ClientCallStart,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> CallRead:
    await throttle(services, f"widget-call:{visitor.client.id}", CLIENT_CALLS_PER_MINUTE, 60)
    return await actions.call_employee(services, visitor.client.id, visitor.resource.id, data.kind)


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


@router.post("/widget/calls/{call_id}/screen", response_model=CallRead)
async def visitor_screen(
    call_id: int,
    data: ClientScreenAction,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> CallRead:
    party = Party("client", visitor.client.id)
    return await actions.change_screen(services, party, _call_id(call_id), data.action)


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


def _call_id(call_id: int) -> int:
    if not 0 < call_id <= LARGEST_ID:
        raise NotFound(actions.CALL_NOT_FOUND, code="call_not_found")
    return call_id


COBROWSE_LANE = "cobrowse"
# A command frame holds its data plus a few dozen characters of its own.
FRAME_OVERHEAD = 256


def register_socket_commands(gateway: Gateway, services: Services) -> None:
    budget = RelayBudget(
        services.settings.cobrowse_bytes_per_second, services.settings.cobrowse_burst_bytes
    )

    @gateway.command("call.signal", CallSignalCommand, max_chars=MAX_SIGNAL_BYTES)
    async def signal(connection: Connection, command: CallSignalCommand) -> None:
        call_id = _call_id(command.call_id)
        event = CallSignal(call_id=call_id, data=command.data)
        await actions.relay_signal(services, party_of(connection), call_id, event)

    @gateway.command(
        "cobrowse.frames", CobrowseFramesCommand, max_chars=MAX_COBROWSE_BYTES + FRAME_OVERHEAD
    )
    async def frames(connection: Connection, command: CobrowseFramesCommand) -> None:
        if connection.client_id is None:
            raise Forbidden(
                "cobrowse.frames comes from the client's page only.",
                code="cobrowse_frames_client_only",
            )
        call_id = _call_id(command.call_id)
        # The frame's length as received: measuring the parsed events again would cost as much
        # as parsing them.
        verdict = budget.spend(call_id, command.received_chars)
        if verdict is Verdict.REFUSE:
            raise TooManyRequests(
                "Too many co-browsing frames; the page will be sent again whole.",
                retry_after=1,
                code="cobrowse_too_fast",
            )
        # The events as parsed, not copied through the schema's serializer (see RelayedEvent).
        event = CobrowseFrames(call_id=call_id, data={"events": command.data.events})
        await actions.relay_signal(
            services, party_of(connection), call_id, event, lane=f"{COBROWSE_LANE}:{call_id}"
        )
        if verdict is Verdict.RELAY_AND_RESYNC:
            await actions.request_snapshot(services, call_id)

    @gateway.command("cobrowse.control", CobrowseControlCommand, max_chars=MAX_SIGNAL_BYTES * 2)
    async def control(connection: Connection, command: CobrowseControlCommand) -> None:
        if connection.employee_id is None:
            raise Forbidden(
                "cobrowse.control comes from the employee only.",
                code="cobrowse_control_employee_only",
            )
        call_id = _call_id(command.call_id)
        data = command.data.model_dump(exclude_none=True)
        event = CobrowseControl(call_id=call_id, data=data)
        await actions.relay_signal(services, party_of(connection), call_id, event)

    @gateway.lane_dropped(COBROWSE_LANE)
    async def viewer_fell_behind(connection: Connection, lane: str) -> None:
        # The employee's window lost page changes it had not yet been sent: rather than queue
        # more for it, the client's page sends the whole page again, which replaces them all.
        await actions.request_snapshot(services, int(lane.split(":", 1)[1]))

    async def last_socket_closed(connection: Connection) -> None:
        await actions.party_disconnected(services, party_of(connection))

    async def socket_opened(connection: Connection) -> None:
        await actions.party_connected(services, party_of(connection))

    gateway.on_last_disconnect.append(last_socket_closed)
    gateway.on_connect.append(socket_opened)
