from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import NotFound
from impserver.domains.clients.models import Client, Contact
from impserver.domains.clients.schemas import (
    ClientRead,
    ContactRead,
    EarlierRequest,
    UnverifiedIdentity,
)
from impserver.domains.clients.user_agents import browser_of
from impserver.domains.requests.models import STATUS_ASSIGNED, STATUS_WAITING, ClientRequest
from impserver.domains.resources.models import Queue, QueueAccess, Resource

CLIENT_NOT_FOUND = "Client not found."


async def visible_client(session: AsyncSession, employee_id: int, client_id: int) -> Client:
    """A client is visible to the employees who can see one of their open requests."""
    served = select(QueueAccess.queue_id).where(QueueAccess.employee_id == employee_id)
    seen = await session.scalar(
        select(ClientRequest.id)
        .where(ClientRequest.client_id == client_id)
        .where(
            ((ClientRequest.status == STATUS_ASSIGNED) & (ClientRequest.assignee_id == employee_id))
            | ((ClientRequest.status == STATUS_WAITING) & ClientRequest.queue_id.in_(served))
        )
        .limit(1)
    )
    client = await session.get(Client, client_id)
    if seen is None or client is None:
        raise NotFound(CLIENT_NOT_FOUND, code="client_not_found")
    return client


async def client_read(session: AsyncSession, client: Client) -> ClientRead:
    contacts = list(
        await session.scalars(
            select(Contact).where(Contact.client_id == client.id).order_by(Contact.id)
        )
    )
    rows = await session.execute(
        select(ClientRequest, Queue.name)
        .outerjoin(Queue, Queue.id == ClientRequest.queue_id)
        .where(ClientRequest.client_id == client.id)
        .order_by(ClientRequest.id.desc())
        .limit(50)
    )
    channel = await session.scalar(select(Resource.kind).where(Resource.id == client.resource_id))
    env = client.environment or {}
    return ClientRead(
        id=client.id,
        resource_id=client.resource_id,
        channel=channel or "website",
        display_name=client.display_name,
        language=client.language,
        is_blocked=client.is_blocked,
        page_url=str(env.get("page_url", "")),
        browser=browser_of(str(env.get("user_agent", ""))),
        contacts=[ContactRead.model_validate(c) for c in contacts],
        requests=[
            EarlierRequest(
                id=r.id,
                status=r.status,
                created_at=r.created_at,
                closed_at=r.closed_at,
                queue_name=name,
            )
            for r, name in rows
        ],
        verified=client.verified_id is not None,
        verified_id=client.verified_id,
        unverified=(
            UnverifiedIdentity.model_validate(client.unverified_identity)
            if client.unverified_identity
            else None
        ),
        attributes=dict(client.attributes or {}),
    )
