from __future__ import annotations

from typing import Any

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import NotFound
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client
from impserver.domains.clients.queries import CLIENT_NOT_FOUND
from impserver.domains.integrations.models import ApiToken
from impserver.domains.integrations.schemas import ApiTokenRead, Integration, PublicClient, Scope
from impserver.domains.requests import queries as request_queries
from impserver.domains.requests.actions import REQUEST_NOT_FOUND
from impserver.domains.requests.models import ClientRequest
from impserver.domains.requests.schemas import NamedRef, RequestCard
from impserver.domains.resources.models import Resource


def scopes_of(token: ApiToken) -> list[Scope]:
    scopes: list[Scope] = []
    if token.can_read:
        scopes.append("read")
    if token.can_write:
        scopes.append("write")
    return scopes


def token_read(token: ApiToken, resource_name: str | None, creator: str | None) -> ApiTokenRead:
    return ApiTokenRead(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=scopes_of(token),
        resource=NamedRef(id=token.resource_id, name=resource_name or "")
        if token.resource_id is not None
        else None,
        created_by=creator,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


async def all_tokens(session: AsyncSession) -> list[ApiTokenRead]:
    """Every token, newest first, revoked ones included (for the record)."""
    rows = await session.execute(
        select(ApiToken, Resource.name, Employee.name)
        .outerjoin(Resource, Resource.id == ApiToken.resource_id)
        .outerjoin(Employee, Employee.id == ApiToken.created_by_id)
        .order_by(ApiToken.id.desc())
    )
    return [token_read(token, resource, creator) for token, resource, creator in rows]


async def one_token(session: AsyncSession, token: ApiToken) -> ApiTokenRead:
    resource = (
        await session.scalar(select(Resource.name).where(Resource.id == token.resource_id))
        if token.resource_id is not None
        else None
    )
    creator = (
        await session.scalar(select(Employee.name).where(Employee.id == token.created_by_id))
        if token.created_by_id is not None
        else None
    )
    return token_read(token, resource, creator)


# -- what an integration reads ------------------------------------------------------------------


async def request_of(session: AsyncSession, caller: Integration, request_id: int) -> ClientRequest:
    request = await session.get(ClientRequest, request_id)
    if request is None:
        raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
    caller.check_resource(request.resource_id)
    return request


async def client_of(session: AsyncSession, caller: Integration, client_id: int) -> Client:
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound(CLIENT_NOT_FOUND, code="client_not_found")
    caller.check_resource(client.resource_id)
    return client


def _within(caller: Integration, column: Any, resource_id: int | None) -> Any:
    """The resource condition of a list: the one asked for, held to the token's own."""
    if resource_id is not None:
        caller.check_resource(resource_id)
        return column == resource_id
    if caller.resource_id is not None:
        return column == caller.resource_id
    return true()


async def list_requests(
    session: AsyncSession,
    caller: Integration,
    *,
    status: str | None,
    resource_id: int | None,
    client_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[RequestCard]:
    query = select(ClientRequest).where(_within(caller, ClientRequest.resource_id, resource_id))
    if status is not None:
        query = query.where(ClientRequest.status == status)
    if client_id is not None:
        query = query.where(ClientRequest.client_id == client_id)
    if before_id is not None:
        query = query.where(ClientRequest.id < before_id)
    found = list(await session.scalars(query.order_by(ClientRequest.id.desc()).limit(limit)))
    return await request_queries.cards(session, found)


async def list_clients(
    session: AsyncSession,
    caller: Integration,
    *,
    resource_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[PublicClient]:
    query = (
        select(Client, Resource)
        .join(Resource, Resource.id == Client.resource_id)
        .where(_within(caller, Client.resource_id, resource_id))
    )
    if before_id is not None:
        query = query.where(Client.id < before_id)
    rows = await session.execute(query.order_by(Client.id.desc()).limit(limit))
    return [
        PublicClient(
            id=client.id,
            resource=NamedRef(id=resource.id, name=resource.name),
            channel=resource.kind,
            display_name=client.display_name,
            language=client.language,
            is_blocked=client.is_blocked,
            created_at=client.created_at,
            last_seen_at=client.last_seen_at,
        )
        for client, resource in rows
    ]
