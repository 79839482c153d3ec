from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.errors import NotFound
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client
from impserver.domains.clients.queries import CLIENT_NOT_FOUND
from impserver.domains.integrations.models import (
    DELIVERY_PENDING,
    ApiToken,
    Webhook,
    WebhookDelivery,
)
from impserver.domains.integrations.schemas import (
    ApiTokenRead,
    Integration,
    PublicClient,
    Scope,
    WebhookDeliveryRead,
    WebhookRead,
)
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


# -- webhooks ---------------------------------------------------------------------------------


async def _webhook_reads(session: AsyncSession, hooks: list[Webhook]) -> list[WebhookRead]:
    ids = [h.id for h in hooks]
    pending_rows = await session.execute(
        select(WebhookDelivery.webhook_id, func.count())
        .where(WebhookDelivery.webhook_id.in_(ids))
        .where(WebhookDelivery.status == DELIVERY_PENDING)
        .group_by(WebhookDelivery.webhook_id)
    )
    pending = {hook_id: count for hook_id, count in pending_rows}
    name_rows = await session.execute(
        select(Resource.id, Resource.name).where(
            Resource.id.in_(sorted({h.resource_id for h in hooks if h.resource_id}))
        )
    )
    names = {resource_id: name for resource_id, name in name_rows}
    return [
        WebhookRead(
            id=h.id,
            url=h.url,
            description=h.description,
            events=h.events,
            resource=NamedRef(id=h.resource_id, name=names.get(h.resource_id, ""))
            if h.resource_id
            else None,
            secret=h.secret,
            is_enabled=h.is_enabled,
            disabled_reason=h.disabled_reason,
            disabled_at=h.disabled_at,
            failures_in_a_row=h.failures_in_a_row,
            created_at=h.created_at,
            pending=pending.get(h.id, 0),
        )
        for h in hooks
    ]


async def all_webhooks(session: AsyncSession) -> list[WebhookRead]:
    hooks = list(await session.scalars(select(Webhook).order_by(Webhook.id.desc())))
    return await _webhook_reads(session, hooks)


async def one_webhook(session: AsyncSession, hook: Webhook) -> WebhookRead:
    (read,) = await _webhook_reads(session, [hook])
    return read


async def webhook(session: AsyncSession, webhook_id: int) -> Webhook:
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound("Webhook not found.", code="webhook_not_found")
    return hook


async def deliveries(
    session: AsyncSession, webhook_id: int, *, before_id: int | None, limit: int
) -> list[WebhookDeliveryRead]:
    """A hook's delivery log, newest first."""
    await webhook(session, webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    rows = await session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit))
    return [WebhookDeliveryRead.model_validate(row, from_attributes=True) for row in rows]
