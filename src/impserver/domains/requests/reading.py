"""A conversation that shows the other side is there: the client's typing (and, where the
resource allows it, what they type) for the employee who holds the request, the employee's
typing for the client, and how far each side has read, for the other.

An employee's read mark is the one ``actions.mark_read`` keeps; the client's is one message id
on their row (``Client.read_message_id``): message ids only grow, so it covers every request of
theirs."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import NotFound
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client
from impserver.domains.requests.events import ClientRead, ClientTyping, VisitorTyping
from impserver.domains.requests.models import STATUS_ASSIGNED, ClientRequest
from impserver.domains.resources.models import Resource
from impserver.domains.rooms.models import Message, RoomMember
from impserver.realtime.events import Audience
from impserver.services import Services

# What a preview shows of a long draft: its end, where the typing is.
DRAFT_PREVIEW_CHARS = 500

_HELD_REQUEST = (
    select(ClientRequest.id, ClientRequest.assignee_id, Resource.typing_preview)
    .join(Resource, Resource.id == ClientRequest.resource_id)
    .where(ClientRequest.status == STATUS_ASSIGNED)
)


async def client_typing(services: Services, client_id: int, draft: str) -> None:
    """The client's composer changed: the employee holding their request is told (what it
    holds, if the resource shows drafts; an empty composer means they stopped). Nothing is
    stored, and a client whose request nobody holds tells nobody."""
    async with services.db.read() as session:
        held = (
            await session.execute(_HELD_REQUEST.where(ClientRequest.client_id == client_id))
        ).first()
    if held is None or held.assignee_id is None:
        return
    typing = bool(draft.strip())
    shown = draft[-DRAFT_PREVIEW_CHARS:] if typing and held.typing_preview else None
    await services.db.publish_ephemeral(
        ClientTyping(request_id=held.id, typing=typing, draft=shown),
        Audience.employee(held.assignee_id),
    )


async def employee_typing(services: Services, actor_id: int, request_id: int) -> None:
    """The employee holding the request is writing a reply: the client sees "… is typing"
    (the widget shows it for a few seconds; the workspace says it again while typing goes on).
    Nobody else's typing reaches the client."""
    async with services.db.read() as session:
        held = (
            await session.execute(
                select(ClientRequest.client_id, Employee.name)
                .join(Employee, Employee.id == ClientRequest.assignee_id)
                .where(
                    ClientRequest.id == request_id,
                    ClientRequest.status == STATUS_ASSIGNED,
                    ClientRequest.assignee_id == actor_id,
                )
            )
        ).first()
    if held is None:
        raise NotFound("Request not found.", code="request_not_found")
    await services.db.publish_ephemeral(
        VisitorTyping(name=held.name), Audience.visitor(held.client_id)
    )


async def client_reads(services: Services, client_id: int, message_id: int) -> None:
    """The client has seen their conversation up to ``message_id`` (never past its newest
    message, never back). The employee holding their request is told."""
    async with services.db.transaction() as uow:
        session = uow.session
        rooms = select(ClientRequest.room_id).where(ClientRequest.client_id == client_id)
        newest = await session.scalar(
            select(func.max(Message.id)).where(Message.room_id.in_(rooms))
        )
        upto = min(message_id, newest or 0)
        moved = await session.execute(
            update(Client)
            .where(Client.id == client_id, Client.read_message_id < upto)
            .values(read_message_id=upto)
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            return
        held = (
            await session.execute(_HELD_REQUEST.where(ClientRequest.client_id == client_id))
        ).first()
        if held is not None and held.assignee_id is not None:
            uow.emit(ClientRead(request_id=held.id, upto=upto), Audience.employee(held.assignee_id))


async def team_read_upto(session: AsyncSession, client_id: int) -> int:
    """How far the employees who held the client's requests have read them: the furthest of
    their read marks."""
    rooms = select(ClientRequest.room_id).where(ClientRequest.client_id == client_id)
    found = await session.scalar(
        select(func.max(RoomMember.last_read_message_id)).where(RoomMember.room_id.in_(rooms))
    )
    return int(found or 0)
