"""Calls and screen sharing with widget clients (CALL-1, VID-1, SCR-1, W-6, W-8, W-9).

The employee serving a request invites its client; where the website allows it, the client
calls that employee too (voice or video), ringing in the employee's workspace. Media flows
browser to browser over WebRTC; the server keeps the call's state, relays the signalling
between exactly its two parties, ends calls nobody answers, and records each call in the
request's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.clock import utcnow
from impserver.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.calls.events import CallSignal, CallUpdated, CobrowseControl, CobrowseFrames
from impserver.domains.calls.models import (
    ACTIVE_STATES,
    SCREEN_ASKED,
    SCREEN_ON,
    STARTED_BY_CLIENT,
    STARTED_BY_EMPLOYEE,
    STATE_ACCEPTED,
    STATE_CONNECTED,
    STATE_ENDED,
    STATE_INVITED,
    STATE_RINGING,
    Call,
)
from impserver.domains.calls.schemas import CallRead
from impserver.domains.requests.events import RequestMessageCreated
from impserver.domains.requests.models import (
    STATUS_ASSIGNED,
    STATUS_CLOSED,
    ClientRequest,
    RequestTransition,
)
from impserver.domains.resources.models import KIND_WEBSITE, Resource
from impserver.domains.rooms.messaging import append_message
from impserver.domains.rooms.models import Room
from impserver.realtime.events import Audience
from impserver.services import Services

CALL_NOT_FOUND = "Call not found."
MAX_SIGNAL_BYTES = 64 * 1024
# Co-browsing frames carry DOM snapshots: a large page is a few hundred kilobytes.
MAX_COBROWSE_BYTES = 4 * 1024 * 1024
# The request stopped being the employee's (closed, blocked, returned or transferred): calls
# and co-browsing are between the client and whoever serves the request, so they end with it.
OUTCOME_REQUEST_RELEASED = "request_released"
# A client called an employee in do-not-disturb: not rung, declined at once.
OUTCOME_BUSY = "busy"


@dataclass(frozen=True)
class Party:
    """One side of a call: the employee, or the client in the widget."""

    kind: Literal["employee", "client"]
    id: int


def _audience(call: Call) -> Audience:
    return Audience.employee(call.employee_id) | Audience.visitor(call.client_id)


async def _announce(uow: UnitOfWork, call: Call) -> CallRead:
    await uow.session.flush()
    read = CallRead.model_validate(call)
    uow.emit(CallUpdated(call=read), _audience(call))
    return read


async def _party_call(uow: UnitOfWork, party: Party, call_id: int) -> Call:
    call = await uow.session.get(Call, call_id)
    owner = (
        call.employee_id if call and party.kind == "employee" else call.client_id if call else None
    )
    if call is None or owner != party.id:
        raise NotFound(CALL_NOT_FOUND, code="call_not_found")
    return call


async def _end(uow: UnitOfWork, call: Call, outcome: str) -> CallRead:
    call.state = STATE_ENDED
    call.outcome = outcome
    call.screen = None
    call.ended_at = utcnow()
    call.due_at = None
    duration = int((call.ended_at - call.connected_at).total_seconds()) if call.connected_at else 0
    details: dict[str, Any] = {
        "call_kind": call.kind,
        "outcome": outcome,
        "duration": duration,
        "started_by": call.started_by,
        "screen_shared": call.screen_shared,
    }
    uow.session.add(
        RequestTransition(
            request_id=call.request_id,
            kind="call",
            actor_employee_id=call.employee_id,
            details={**details, "started_at": call.created_at.isoformat()},
        )
    )
    request = await uow.session.get(ClientRequest, call.request_id)
    room = await uow.session.get(Room, request.room_id) if request else None
    employee = await uow.session.get(Employee, call.employee_id)
    if room is not None and request is not None:
        record, _ = await append_message(
            uow,
            room,
            body="call",
            kind="system",
            meta={
                "transition": "call",
                "client_visible": False,
                "actor": employee.name if employee else None,
                **details,
            },
        )
        # The record joins the open conversation at once, for whoever sees the request now.
        viewers = {call.employee_id}
        if request.status == STATUS_ASSIGNED and request.assignee_id is not None:
            viewers.add(request.assignee_id)
        uow.emit(
            RequestMessageCreated(request_id=request.id, message=record),
            Audience.employees(viewers),
        )
    return await _announce(uow, call)


async def _locked_request(session: AsyncSession, request_id: int) -> ClientRequest | None:
    """The request, locked until commit and read afresh."""
    return await session.scalar(
        select(ClientRequest)
        .where(ClientRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _refuse_while_a_call_is_on(session: AsyncSession, request_id: int) -> None:
    """One call at a time with a client, whoever starts it."""
    busy = await session.scalar(
        select(Call.id).where(Call.request_id == request_id).where(Call.state.in_(ACTIVE_STATES))
    )
    if busy is not None:
        raise Conflict("A call with this client is already in progress.", code="call_in_progress")


async def invite(services: Services, actor: Employee, request_id: int, kind: str) -> CallRead:
    """Only the responsible employee calls, only website clients, one call at a time."""
    async with services.db.transaction() as uow:
        # Locked until commit: a transfer or close at the same moment either happens first
        # (and this finds the request gone) or waits and then ends the call this adds.
        request = await _locked_request(uow.session, request_id)
        if request is None or request.assignee_id != actor.id or request.status != STATUS_ASSIGNED:
            raise NotFound("Request not found.", code="request_not_found")
        resource_kind = await uow.session.scalar(
            select(Resource.kind).where(Resource.id == request.resource_id)
        )
        if resource_kind != KIND_WEBSITE:
            raise InvalidInput(
                "Calls are available with website visitors only.", code="calls_website_only"
            )
        await _refuse_while_a_call_is_on(uow.session, request.id)
        call = Call(
            request_id=request.id,
            kind=kind,
            employee_id=actor.id,
            client_id=request.client_id,
            due_at=utcnow() + timedelta(seconds=services.settings.call_answer_seconds),
        )
        uow.session.add(call)
        return await _announce(uow, call)


async def call_employee(
    services: Services, client_id: int, resource_id: int, kind: str
) -> CallRead:
    """The client calls the employee serving their request, where the website allows it.

    Refused before an employee has taken the request and while a call is on. An employee in
    do-not-disturb is not rung: the call ends at once as "busy", and the client is told that
    the employee cannot answer now."""
    async with services.db.transaction() as uow:
        resource = await uow.session.get(Resource, resource_id)
        allowed = resource is not None and (
            resource.client_voice_calls if kind == "voice" else resource.client_video_calls
        )
        if not allowed:
            raise Forbidden("Calls are not available on this website.", code="client_calls_off")
        open_request = await uow.session.scalar(
            select(ClientRequest.id)
            .where(ClientRequest.client_id == client_id)
            .where(ClientRequest.status != STATUS_CLOSED)
            .order_by(ClientRequest.id.desc())
            .limit(1)
        )
        # Locked as an employee's invitation locks it: a transfer at the same moment either
        # comes first (and this finds nobody to call) or waits and then ends this call.
        request = (
            await _locked_request(uow.session, open_request) if open_request is not None else None
        )
        if request is None or request.status != STATUS_ASSIGNED or request.assignee_id is None:
            raise Conflict(
                "A call is possible once an employee has taken the request.",
                code="call_needs_employee",
            )
        await _refuse_while_a_call_is_on(uow.session, request.id)
        employee = await uow.session.get(Employee, request.assignee_id)
        call = Call(
            request_id=request.id,
            kind=kind,
            state=STATE_RINGING,
            started_by=STARTED_BY_CLIENT,
            employee_id=request.assignee_id,
            client_id=client_id,
            due_at=utcnow() + timedelta(seconds=services.settings.client_call_answer_seconds),
        )
        uow.session.add(call)
        await uow.session.flush()
        if (
            employee is not None
            and employee.dnd_until is not None
            and employee.dnd_until > utcnow()
        ):
            return await _end(uow, call, OUTCOME_BUSY)
        return await _announce(uow, call)


async def answer(services: Services, actor: Employee, call_id: int, response: str) -> CallRead:
    """The employee answers a client's call: accept it (this tab then sets up the media) or
    decline it. Only the employee it rings for, while they still serve the request."""
    async with services.db.transaction() as uow:
        call = await _party_call(uow, Party("employee", actor.id), call_id)
        if call.started_by != STARTED_BY_CLIENT:
            raise InvalidInput("Only a client's call is answered.", code="call_not_invited")
        request = await uow.session.get(ClientRequest, call.request_id)
        if request is None or request.assignee_id != actor.id or request.status != STATUS_ASSIGNED:
            raise NotFound(CALL_NOT_FOUND, code="call_not_found")
        if response == "decline":
            if call.state != STATE_RINGING:
                raise Conflict("This call is no longer ringing.", code="invitation_closed")
            return await _end(uow, call, "declined")
        # One change, conditional on the call still ringing: of two tabs answering at once,
        # one takes the call and the other is told it is no longer ringing.
        taken = await uow.session.execute(
            update(Call)
            .where(Call.id == call.id)
            .where(Call.state == STATE_RINGING)
            .values(
                state=STATE_ACCEPTED,
                due_at=utcnow() + timedelta(seconds=services.settings.call_answer_seconds),
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("This call is no longer ringing.", code="invitation_closed")
        await uow.session.refresh(call)
        return await _announce(uow, call)


async def respond(services: Services, party: Party, call_id: int, response: str) -> CallRead:
    """The client's answer: allow (voice: opens the call window), accept, or decline."""
    async with services.db.transaction() as uow:
        call = await _party_call(uow, party, call_id)
        if party.kind != "client" or call.started_by != STARTED_BY_EMPLOYEE:
            raise InvalidInput(
                "Only the invited client answers an invitation.", code="call_not_invited"
            )
        if call.state not in (STATE_INVITED, STATE_RINGING):
            raise Conflict("This invitation is no longer open.", code="invitation_closed")
        if response == "decline":
            return await _end(uow, call, "declined")
        if response == "allow" and call.kind == "voice" and call.state == STATE_INVITED:
            call.state = STATE_RINGING
            call.due_at = utcnow() + timedelta(seconds=services.settings.call_answer_seconds)
            return await _announce(uow, call)
        if response == "accept":
            call.state = STATE_ACCEPTED
            call.due_at = utcnow() + timedelta(seconds=services.settings.call_answer_seconds)
            return await _announce(uow, call)
        raise InvalidInput("Answer with allow, accept or decline.", code="call_bad_response")


async def change_screen(services: Services, party: Party, call_id: int, action: str) -> CallRead:
    """The client's screen during a voice or video call, on the call's own connection: the
    employee asks for it (the client then shares or declines) and either side stops it; the
    client may also share it unasked."""
    async with services.db.transaction() as uow:
        call = await _party_call(uow, party, call_id)
        if call.state != STATE_CONNECTED or call.kind not in ("voice", "video"):
            raise Conflict(
                "The screen is shown during a voice or video call only.",
                code="screen_needs_call",
            )
        if action == "ask":
            if call.screen is not None:
                return CallRead.model_validate(call)
            call.screen = SCREEN_ASKED
        elif action == "share":
            call.screen = SCREEN_ON
            call.screen_shared = True
        elif action == "decline":
            if call.screen != SCREEN_ASKED:
                raise Conflict("Nobody asked for the screen.", code="screen_not_asked")
            call.screen = None
        else:
            call.screen = None
        return await _announce(uow, call)


async def mark_connected(services: Services, party: Party, call_id: int) -> CallRead:
    async with services.db.transaction() as uow:
        call = await _party_call(uow, party, call_id)
        if call.state == STATE_CONNECTED:
            return CallRead.model_validate(call)
        if call.state != STATE_ACCEPTED:
            raise Conflict("The call is not being set up.", code="call_not_setting_up")
        call.state = STATE_CONNECTED
        call.connected_at = utcnow()
        call.due_at = None
        return await _announce(uow, call)


async def hang_up(services: Services, party: Party, call_id: int) -> CallRead:
    async with services.db.transaction() as uow:
        call = await _party_call(uow, party, call_id)
        if call.state == STATE_ENDED:
            return CallRead.model_validate(call)
        outcome = "completed" if call.state == STATE_CONNECTED else "cancelled"
        return await _end(uow, call, outcome)


async def end_calls_of_request(uow: UnitOfWork, request_id: int) -> None:
    """End the request's running calls and co-browsing sessions in ``uow``'s transaction, as
    its employee stops serving it: both parties are told, and each is recorded in its history
    as any ended call is."""
    for call in await uow.session.scalars(
        select(Call)
        .where(Call.request_id == request_id)
        .where(Call.state.in_(ACTIVE_STATES))
        .order_by(Call.id)
    ):
        await _end(uow, call, OUTCOME_REQUEST_RELEASED)


async def relay_signal(
    services: Services,
    party: Party,
    call_id: int,
    event: CallSignal | CobrowseFrames | CobrowseControl,
    *,
    lane: str | None = None,
) -> None:
    """Pass a message to the call's other party only; the server keeps no copy.

    Only while the call runs, and only while the request is still the call's: in the hands of
    the employee who started it, so an employee who passed the request on reaches its client no
    more (the transition ends the call too; this also covers a message already on its way)."""
    async with services.db.read() as session:
        row = (
            await session.execute(
                select(Call.employee_id, Call.client_id, ClientRequest.assignee_id)
                .join(ClientRequest, ClientRequest.id == Call.request_id)
                .where(Call.id == call_id)
                .where(Call.state.in_(ACTIVE_STATES))
                .where(ClientRequest.status == STATUS_ASSIGNED)
                .where(ClientRequest.client_id == Call.client_id)
            )
        ).one_or_none()
    if row is None or row.assignee_id != row.employee_id:
        raise NotFound(CALL_NOT_FOUND, code="call_not_found")
    sender = row.employee_id if party.kind == "employee" else row.client_id
    if sender != party.id:
        raise NotFound(CALL_NOT_FOUND, code="call_not_found")
    audience = (
        Audience.visitor(row.client_id)
        if party.kind == "employee"
        else Audience.employee(row.employee_id)
    )
    try:
        await services.db.publish_ephemeral(event, audience, lane=lane)
    except (ValueError, RecursionError) as exc:
        # Rendering refused it: an infinite number, or nesting deeper than JSON is written.
        raise InvalidInput(
            "This message cannot be passed on as JSON.", code="signal_not_json"
        ) from exc


async def request_snapshot(services: Services, call_id: int) -> None:
    """Ask the client's page of a co-browsing session for a whole fresh copy of the page: the
    employee's window missed some of its changes."""
    async with services.db.read() as session:
        call = await session.get(Call, call_id)
        if call is None or call.kind != "cobrowse" or call.state not in ACTIVE_STATES:
            return
        client_id = call.client_id
    await services.db.publish_ephemeral(
        CobrowseControl(call_id=call_id, data={"action": "snapshot"}), Audience.visitor(client_id)
    )


async def party_disconnected(services: Services, party: Party) -> None:
    """A party's last socket closed. Calls being set up or under way get a short grace period
    (a page navigation reconnects within it); invitations keep their own answer time."""
    grace = timedelta(seconds=services.settings.call_reconnect_grace_seconds)
    async with services.db.transaction() as uow:
        column = Call.employee_id if party.kind == "employee" else Call.client_id
        for call in await uow.session.scalars(
            select(Call)
            .where(column == party.id)
            .where(Call.state.in_((STATE_ACCEPTED, STATE_CONNECTED)))
        ):
            call.due_at = utcnow() + grace


async def party_connected(services: Services, party: Party) -> None:
    """The party is back within the grace period: connected calls go on."""
    async with services.db.transaction() as uow:
        column = Call.employee_id if party.kind == "employee" else Call.client_id
        for call in await uow.session.scalars(
            select(Call).where(column == party.id).where(Call.state == STATE_CONNECTED)
        ):
            call.due_at = None


async def expire_unanswered(services: Services) -> int:
    async with services.db.transaction() as uow:
        query = (
            select(Call)
            .where(Call.state.in_(ACTIVE_STATES))
            .where(Call.due_at <= utcnow())
            .limit(50)
        )
        query = uow.claim(query)
        due = list(await uow.session.scalars(query))
        for call in due:
            unanswered = call.state in (STATE_INVITED, STATE_RINGING)
            await _end(uow, call, "no_answer" if unanswered else "connection_lost")
        return len(due)


async def active_call_of_client(services: Services, client_id: int) -> CallRead | None:
    async with services.db.read() as session:
        call = await session.scalar(
            select(Call)
            .where(Call.client_id == client_id)
            .where(Call.state.in_(ACTIVE_STATES))
            .order_by(Call.id.desc())
            .limit(1)
        )
        return CallRead.model_validate(call) if call else None


async def active_call(services: Services, request_id: int) -> CallRead | None:
    async with services.db.read() as session:
        call = await session.scalar(
            select(Call).where(Call.request_id == request_id).where(Call.state.in_(ACTIVE_STATES))
        )
        return CallRead.model_validate(call) if call else None
