from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from fastapi import Depends, Query, Response
from pydantic import StrictBool, StrictInt, StrictStr, StringConstraints
from sqlalchemy import select

from impserver.core.errors import Forbidden, NotFound
from impserver.core.http import LARGEST_ID, api_router
from impserver.core.lean_routes import LeanCall, LeanRoute
from impserver.domains.accounts.auth import authenticate_request, current_employee, socket_sender
from impserver.domains.accounts.models import Employee
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients import queries as client_queries
from impserver.domains.clients.schemas import (
    ClientBlock,
    ClientRead,
    ClientUpdate,
    ContactsUpdate,
)
from impserver.domains.requests import actions, queries, reading
from impserver.domains.requests.schemas import (
    GroupWithMembers,
    NamedRef,
    QueueTransfer,
    ReadMarkBody,
    RequestCard,
    RequestDetail,
    SpecialistTransfer,
    TransferOptions,
)
from impserver.domains.requests.search import readable_request
from impserver.domains.resources.models import Group, GroupMember, Queue
from impserver.domains.rooms.messaging import history_page
from impserver.domains.rooms.schemas import MAX_MESSAGE_CHARS, EmployeeMessageCreate, MessageRead
from impserver.domains.rooms.socket_sends import (
    SEND_COMMAND_CHARS,
    MessageSendCommand,
    acknowledge,
)
from impserver.domains.tags.schemas import RequestTags
from impserver.realtime.gateway import Connection, Gateway, SocketCommand
from impserver.services import Services, get_services

router = api_router("/api", "requests")


@router.get("/requests/queue", response_model=list[RequestCard])
async def queue(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> list[RequestCard]:
    """Waiting requests of the queues I serve, oldest first (Q-1)."""
    async with services.db.read() as session:
        return await queries.waiting_for(session, employee.id)


@router.get("/requests/mine", response_model=list[RequestCard])
async def mine(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> list[RequestCard]:
    async with services.db.read() as session:
        return await queries.assigned_to(session, employee.id)


@router.get("/requests/{request_id}", response_model=RequestDetail)
async def read_request(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RequestDetail:
    async with services.db.read() as session:
        request = await readable_request(session, employee.id, request_id)
        return await queries.detail(session, request, employee.id)


@router.get("/requests/{request_id}/messages", response_model=list[MessageRead])
async def request_messages(
    request_id: int,
    before_id: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=100),
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> list[MessageRead]:
    async with services.db.read() as session:
        request = await readable_request(session, employee.id, request_id)
        return await history_page(session, request.room_id, before_id=before_id, limit=limit)


@router.post("/requests/{request_id}/messages", response_model=MessageRead, status_code=201)
async def reply(
    request_id: int,
    data: EmployeeMessageCreate,
    response: Response,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MessageRead:
    message, created = await _reply(services, employee, request_id, data)
    if not created:
        response.status_code = 200
    return message


async def _reply(
    services: Services, employee: Employee, request_id: int, data: EmployeeMessageCreate
) -> tuple[MessageRead, bool]:
    return await actions.employee_replies(
        services,
        employee,
        request_id,
        body=data.body,
        attachment_ids=data.attachment_ids,
        client_message_id=data.client_message_id,
        reply_to_id=data.reply_to_id,
        mention_ids=data.mention_ids,
    )


async def reply_lean(call: LeanCall) -> Response:
    """``reply`` on the lean route (core/lean_routes.py)."""
    services: Services = call.services
    employee = (await authenticate_request(services, call.request)).employee
    message, created = await _reply(
        services, employee, call.ids["request_id"], call.body(EmployeeMessageCreate)
    )
    return call.json(message, 201 if created else 200)


LEAN_ROUTES = [LeanRoute("POST", "/api/requests/{request_id}/messages", reply_lean)]


@router.put("/requests/{request_id}/tags", response_model=RequestCard)
async def set_tags(
    request_id: int,
    data: RequestTags,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RequestCard:
    """Replace the request's tags (its assignee does)."""
    return await actions.tag_request(services, employee, request_id, data.tag_ids)


@router.post("/requests/{request_id}/notes", response_model=MessageRead, status_code=201)
async def write_note(
    request_id: int,
    data: EmployeeMessageCreate,
    response: Response,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MessageRead:
    """A note for colleagues in the request (its assignee writes it): in the request's history
    for employees, through transfers; never shown or sent to the client."""
    message, created = await _write_note(services, employee, request_id, data)
    if not created:
        response.status_code = 200
    return message


async def _write_note(
    services: Services, employee: Employee, request_id: int, data: EmployeeMessageCreate
) -> tuple[MessageRead, bool]:
    return await actions.employee_writes_note(
        services,
        employee,
        request_id,
        body=data.body,
        attachment_ids=data.attachment_ids,
        client_message_id=data.client_message_id,
        reply_to_id=data.reply_to_id,
        mention_ids=data.mention_ids,
    )


@router.post("/requests/{request_id}/read", status_code=204)
async def mark_read(
    request_id: int,
    data: ReadMarkBody,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.mark_read(services, employee, request_id, data.message_id)


@router.get("/requests/{request_id}/transfer-options", response_model=TransferOptions)
async def transfer_options(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> TransferOptions:
    """Queues and groups of the request's own resource (Q-2d, Q-2e)."""
    async with services.db.read() as session:
        request = await actions.visible_request(session, employee.id, request_id)
        queues = await session.scalars(
            select(Queue)
            .where(Queue.resource_id == request.resource_id)
            .where(Queue.archived_at.is_(None))
            .order_by(Queue.position, Queue.id)
        )
        groups = list(
            await session.scalars(
                select(Group).where(Group.resource_id == request.resource_id).order_by(Group.name)
            )
        )
        members = await session.execute(
            select(GroupMember.group_id, Employee.id, Employee.name)
            .join(Employee, Employee.id == GroupMember.employee_id)
            .where(GroupMember.group_id.in_([g.id for g in groups]))
            .where(Employee.is_active.is_(True))
            .order_by(Employee.name)
        )
        by_group: dict[int, list[NamedRef]] = {}
        for group_id, member_id, name in members:
            by_group.setdefault(group_id, []).append(NamedRef(id=member_id, name=name))
        return TransferOptions(
            queues=[NamedRef(id=q.id, name=q.name) for q in queues],
            groups=[
                GroupWithMembers(id=g.id, name=g.name, members=by_group.get(g.id, []))
                for g in groups
            ],
        )


@router.post("/requests/{request_id}/accept", response_model=RequestCard)
async def accept(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RequestCard:
    request = await actions.accept(services, employee, request_id)
    async with services.db.read() as session:
        return await queries.card(session, request, employee.id)


@router.post("/requests/{request_id}/decline", status_code=204)
async def decline(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.decline(services, employee, request_id)


@router.post("/requests/{request_id}/close", status_code=204)
async def close(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.close(services, employee, request_id)


@router.post("/requests/{request_id}/block", status_code=204)
async def block(
    request_id: int,
    data: ClientBlock | None = None,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    data = data or ClientBlock()
    await actions.block(
        services,
        employee,
        request_id,
        reason=data.reason,
        address_period=data.address_period,
        client_period=data.client_period,
    )


@router.post("/requests/{request_id}/return", status_code=204)
async def return_to_queue(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.return_to_queue(services, employee, request_id)


@router.post("/requests/{request_id}/transfer-queue", status_code=204)
async def transfer_to_queue(
    request_id: int,
    data: QueueTransfer,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.transfer_to_queue(services, employee, request_id, data.queue_id)


@router.post("/requests/{request_id}/transfer-employee", status_code=204)
async def transfer_to_specialist(
    request_id: int,
    data: SpecialistTransfer,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.transfer_to_specialist(
        services, employee, request_id, data.group_id, data.employee_id
    )


@router.get("/clients/{client_id}", response_model=ClientRead)
async def read_client(
    client_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> ClientRead:
    async with services.db.read() as session:
        client = await client_queries.visible_client(session, employee.id, client_id)
        return await client_queries.client_read(session, client)


@router.patch("/clients/{client_id}", response_model=ClientRead)
async def rename_client(
    client_id: int,
    data: ClientUpdate,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> ClientRead:
    return await client_actions.rename_client(services, employee, client_id, data.display_name)


@router.put("/clients/{client_id}/contacts", response_model=ClientRead)
async def save_contacts(
    client_id: int,
    data: ContactsUpdate,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> ClientRead:
    return await client_actions.save_contacts(services, employee, client_id, data.contacts)


@router.post("/clients/{client_id}/contacts/{contact_id}/hide", response_model=ClientRead)
async def hide_contact(
    client_id: int,
    contact_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> ClientRead:
    return await client_actions.set_contact_hidden(services, employee, client_id, contact_id, True)


@router.post("/clients/{client_id}/contacts/{contact_id}/unhide", response_model=ClientRead)
async def unhide_contact(
    client_id: int,
    contact_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> ClientRead:
    return await client_actions.set_contact_hidden(services, employee, client_id, contact_id, False)


@router.post("/clients/{client_id}/unblock", status_code=204)
async def unblock(
    client_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.unblock_client(services, employee, client_id)


# The widget sends its composer at most twice a second while the client types, and a read mark
# as new messages show. Frames beyond these limits are dropped without a reply: both are
# best-effort, and an error frame for each would add to the flood it answers.
CLIENT_TYPING_PER_WINDOW, CLIENT_TYPING_WINDOW = 12, 5
CLIENT_READS_PER_WINDOW, CLIENT_READS_WINDOW = 20, 10
TYPING_PER_WINDOW, TYPING_WINDOW = 10, 10


class ClientTypingCommand(SocketCommand):
    """The client's composer as it is now (empty: they stopped typing, or sent it)."""

    refusal: ClassVar[str] = "client.typing needs the draft as text."
    type: Literal["client.typing"]
    draft: Annotated[StrictStr, StringConstraints(max_length=MAX_MESSAGE_CHARS)]


class ClientReadCommand(SocketCommand):
    """The client has seen their conversation up to this message."""

    refusal: ClassVar[str] = "client.read needs a message_id."
    type: Literal["client.read"]
    message_id: StrictInt


class EmployeeTypingCommand(SocketCommand):
    """The employee holding a request is writing a reply (not a note) in it."""

    refusal: ClassVar[str] = "request.typing needs a request_id."
    type: Literal["request.typing"]
    request_id: StrictInt


async def _within(services: Services, key: str, limit: int, window: int) -> bool:
    return (await services.limiter.take(key, limit, window)).allowed


class RequestSendCommand(MessageSendCommand):
    """A reply to the request's client, as ``POST /api/requests/{request_id}/messages`` sends
    it; with ``note`` true, a note for colleagues, as ``POST …/notes`` writes it."""

    type: Literal["request.send"]
    request_id: StrictInt
    note: StrictBool = False


def _client_of(connection: Connection) -> int:
    if connection.client_id is None:
        raise Forbidden(
            "Only the client's widget says what the client types or reads.",
            code="client_socket_only",
        )
    return connection.client_id


def register_socket_commands(gateway: Gateway, services: Services) -> None:
    @gateway.command("client.typing", ClientTypingCommand)
    async def client_typing(connection: Connection, command: ClientTypingCommand) -> None:
        client_id = _client_of(connection)
        if await _within(
            services, f"client-typing:{client_id}", CLIENT_TYPING_PER_WINDOW, CLIENT_TYPING_WINDOW
        ):
            await reading.client_typing(services, client_id, command.draft)

    @gateway.command("request.send", RequestSendCommand, max_chars=SEND_COMMAND_CHARS)
    async def request_send(connection: Connection, command: RequestSendCommand) -> None:
        employee = await socket_sender(services, connection)
        if not 0 < command.request_id <= LARGEST_ID:
            raise NotFound("Request not found.", code="request_not_found")
        # A note goes exactly where the notes address sends it, and never to the client.
        send = _write_note if command.note else _reply
        message, created = await send(services, employee, command.request_id, command)
        acknowledge(connection, command.ref, message, created)

    @gateway.command("request.typing", EmployeeTypingCommand)
    async def employee_typing(connection: Connection, command: EmployeeTypingCommand) -> None:
        if connection.employee_id is None:
            raise Forbidden(
                "Only employees announce typing in requests.", code="typing_employees_only"
            )
        request_id = command.request_id
        if not 0 < request_id <= LARGEST_ID:
            raise NotFound("Request not found.", code="request_not_found")
        # The workspace says it once every 3 seconds while the employee types.
        if await _within(
            services, f"request-typing:{connection.employee_id}", TYPING_PER_WINDOW, TYPING_WINDOW
        ):
            await reading.employee_typing(services, connection.employee_id, request_id)

    @gateway.command("client.read", ClientReadCommand)
    async def client_read(connection: Connection, command: ClientReadCommand) -> None:
        client_id = _client_of(connection)
        if not 0 < command.message_id <= LARGEST_ID:
            raise NotFound("Message not found.", code="message_not_found")
        if await _within(
            services, f"client-read:{client_id}", CLIENT_READS_PER_WINDOW, CLIENT_READS_WINDOW
        ):
            await reading.client_reads(services, client_id, command.message_id)
