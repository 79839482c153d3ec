from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, ClassVar, Literal

from fastapi import Depends, Query, Request, Response
from pydantic import StrictInt
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.requests import ClientDisconnect
from starlette.types import Message

from impserver.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from impserver.core.http import LARGEST_ID, UPLOAD_BODY_BYTES, Text, api_router
from impserver.core.lean_routes import LeanCall, LeanRoute
from impserver.domains.accounts.auth import authenticate_request, current_employee, socket_sender
from impserver.domains.accounts.models import Employee
from impserver.domains.rooms import access, actions, queries
from impserver.domains.rooms.files import file_response
from impserver.domains.rooms.messaging import file_too_large, history_page, save_upload
from impserver.domains.rooms.models import Attachment
from impserver.domains.rooms.schemas import (
    AttachmentRead,
    DirectRoomOpen,
    EmployeeMessageCreate,
    MemberRead,
    MembersAdd,
    MessageEdit,
    MessageRead,
    ReadMark,
    RoomCreate,
    RoomRead,
    RoomRename,
)
from impserver.domains.rooms.search import SearchResults, search
from impserver.domains.rooms.socket_sends import (
    SEND_COMMAND_CHARS,
    MessageSendCommand,
    acknowledge,
)
from impserver.realtime.gateway import Connection, Gateway, SocketCommand
from impserver.services import Services, get_services

router = api_router("/api", "rooms")


@router.get("/rooms", response_model=list[RoomRead])
async def list_rooms(
    employee: Employee = Depends(current_employee), services: Services = Depends(get_services)
) -> list[RoomRead]:
    async with services.db.read() as session:
        return await queries.rooms_of(session, employee.id)


@router.post("/rooms", response_model=RoomRead, status_code=201)
async def create_room(
    data: RoomCreate,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RoomRead:
    return await actions.create_room(services, employee, data.name, data.member_ids)


@router.post("/rooms/direct", response_model=RoomRead)
async def open_direct_room(
    data: DirectRoomOpen,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RoomRead:
    return await actions.open_direct_room(services, employee, data.employee_id)


@router.get("/rooms/{room_id}", response_model=RoomRead)
async def read_room(
    room_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RoomRead:
    async with services.db.read() as session:
        room = await access.member_room(session, room_id, employee.id)
        return await queries.room_read(session, room, employee.id)


@router.patch("/rooms/{room_id}", response_model=RoomRead)
async def rename_room(
    room_id: int,
    data: RoomRename,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RoomRead:
    return await actions.rename_room(services, employee, room_id, data.name)


@router.post("/rooms/{room_id}/members", response_model=RoomRead)
async def add_members(
    room_id: int,
    data: MembersAdd,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> RoomRead:
    return await actions.add_members(services, employee, room_id, data.employee_ids)


@router.delete("/rooms/{room_id}/members/{employee_id}", status_code=204)
async def remove_member(
    room_id: int,
    employee_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.remove_member(services, employee, room_id, employee_id)


@router.get("/rooms/{room_id}/messages", response_model=list[MessageRead])
async def list_messages(
    room_id: int,
    before_id: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=100),
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> list[MessageRead]:
    async with services.db.read() as session:
        await access.member_room(session, room_id, employee.id)
        return await history_page(session, room_id, before_id=before_id, limit=limit)


@router.post("/rooms/{room_id}/messages", response_model=MessageRead, status_code=201)
async def post_message(
    room_id: int,
    data: EmployeeMessageCreate,
    response: Response,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MessageRead:
    message, created = await actions.post_message(services, employee, room_id, data)
    if not created:
        response.status_code = 200
    return message


async def post_message_lean(call: LeanCall) -> Response:
    """``post_message`` on the lean route (core/lean_routes.py): the busiest request there is."""
    services: Services = call.services
    employee = (await authenticate_request(services, call.request)).employee
    message, created = await actions.post_message(
        services, employee, call.ids["room_id"], call.body(EmployeeMessageCreate)
    )
    return call.json(message, 201 if created else 200)


LEAN_ROUTES = [LeanRoute("POST", "/api/rooms/{room_id}/messages", post_message_lean)]


@router.patch("/rooms/{room_id}/messages/{message_id}", response_model=MessageRead)
async def edit_message(
    room_id: int,
    message_id: int,
    data: MessageEdit,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MessageRead:
    return await actions.edit_message(services, employee, room_id, message_id, data.body)


@router.delete("/rooms/{room_id}/messages/{message_id}", status_code=204)
async def delete_message(
    room_id: int,
    message_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.delete_message(services, employee, room_id, message_id)


@router.post("/rooms/{room_id}/read", status_code=204)
async def mark_read(
    room_id: int,
    data: ReadMark,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> None:
    await actions.mark_read(services, employee, room_id, data.message_id)


@router.get("/rooms/{room_id}/reads", response_model=list[MemberRead])
async def read_marks(
    room_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> list[MemberRead]:
    async with services.db.read() as session:
        room = await access.member_room(session, room_id, employee.id)
        return (await queries.room_read(session, room)).members


@router.get("/search", response_model=SearchResults)
async def search_everything(
    q: Annotated[Text, Query(min_length=1, max_length=100)],
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> SearchResults:
    async with services.db.read() as session:
        return await search(session, employee.id, q)


# Multipart framing around the file (boundaries, part headers) is far below this.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
UPLOAD_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


class UploadInterrupted(DomainError):
    code = "upload_interrupted"


@contextlib.asynccontextmanager
async def uploaded_file(
    request: Request, services: Services, *, limit: int | None = None
) -> AsyncIterator[StarletteUploadFile]:
    """The one file of a multipart upload, of at most ``limit`` bytes (by default the
    attachments' limit).

    The form is parsed here rather than by a File() parameter so that an upload over the limit
    is refused as soon as that shows: at once when its length is announced, else once the bytes
    received pass it, rather than after the whole body has been spooled to disk.
    """
    limit = services.settings.upload_max_bytes if limit is None else limit
    body_limit = limit + MULTIPART_OVERHEAD_BYTES
    if _declared_length(request) > body_limit:
        raise file_too_large(limit)
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > body_limit:
            raise file_too_large(limit)
        return message

    try:
        async with Request(request.scope, receive_within_limit).form(
            max_files=1, max_fields=10
        ) as form:
            upload = form.get("file")
            if not isinstance(upload, StarletteUploadFile):
                raise InvalidInput("file: choose a file to upload.", code="file_missing")
            yield upload
    except ClientDisconnect as exc:
        # Nobody is left to read the answer; this keeps a dropped upload out of the error log.
        raise UploadInterrupted("The upload was interrupted; please try again.") from exc


@router.post(
    "/files",
    response_model=AttachmentRead,
    status_code=201,
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
    max_body_size=UPLOAD_BODY_BYTES,
)
async def upload_file(
    request: Request,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> AttachmentRead:
    async with uploaded_file(request, services) as upload:
        return await save_upload(services, upload, employee_id=employee.id)


def _declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length", "0"))
    except ValueError:
        return 0


async def _employees_file(
    attachment_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> Attachment:
    async with services.db.read() as session:
        return await access.attachment_for_employee(session, employee, attachment_id)


@router.get("/files/{attachment_id}", response_class=Response)
async def download_file(
    request: Request,
    attachment: Attachment = Depends(_employees_file),
    services: Services = Depends(get_services),
) -> Response:
    return await file_response(services, attachment, request)


@router.get("/files/{attachment_id}/thumbnail", response_class=Response)
async def download_thumbnail(
    request: Request,
    attachment: Attachment = Depends(_employees_file),
    services: Services = Depends(get_services),
) -> Response:
    """The picture's small copy, made on upload (404 for a file without one)."""
    return await file_response(services, attachment, request, thumbnail=True)


# The workspace announces typing at most once every 3 seconds per room. Frames beyond these
# limits are dropped without a reply: typing is best-effort, and an error frame for each one
# would add to the very flood it answers.
TYPING_PER_ROOM, TYPING_PER_ROOM_WINDOW = 3, 5
TYPING_PER_EMPLOYEE, TYPING_PER_EMPLOYEE_WINDOW = 20, 10


async def typing_allowed(services: Services, employee_id: int, room_id: int) -> bool:
    for key, limit, window in (
        (f"typing:{employee_id}", TYPING_PER_EMPLOYEE, TYPING_PER_EMPLOYEE_WINDOW),
        (f"typing:{employee_id}:{room_id}", TYPING_PER_ROOM, TYPING_PER_ROOM_WINDOW),
    ):
        count, _ = await services.limiter.hit(key, window)
        if count > limit:
            return False
    return True


class TypingCommand(SocketCommand):
    """An employee is typing in a room: the room's other members are told."""

    refusal: ClassVar[str] = "typing needs a room_id."
    type: Literal["typing"]
    # Strict: true is an int to Python, and "1" to pydantic's lax mode; neither is a room id.
    room_id: StrictInt


class RoomSendCommand(MessageSendCommand):
    """A message to a room, as ``POST /api/rooms/{room_id}/messages`` sends it."""

    type: Literal["room.send"]
    room_id: StrictInt


def register_socket_commands(gateway: Gateway, services: Services) -> None:
    @gateway.command("room.send", RoomSendCommand, max_chars=SEND_COMMAND_CHARS)
    async def room_send(connection: Connection, command: RoomSendCommand) -> None:
        employee = await socket_sender(services, connection)
        if not 0 < command.room_id <= LARGEST_ID:
            raise NotFound(access.ROOM_NOT_FOUND, code="room_not_found")
        message, created = await actions.post_message(services, employee, command.room_id, command)
        acknowledge(connection, command.ref, message, created)

    @gateway.command("typing", TypingCommand)
    async def typing(connection: Connection, command: TypingCommand) -> None:
        if connection.employee_id is None:
            raise Forbidden(
                "Only employees announce typing in rooms.", code="typing_employees_only"
            )
        room_id = command.room_id
        if not 0 < room_id <= LARGEST_ID:
            raise NotFound(access.ROOM_NOT_FOUND, code="room_not_found")
        if await typing_allowed(services, connection.employee_id, room_id):
            await actions.announce_typing(services, connection.employee_id, room_id)
