"""Administration of API tokens, and the public API integrations call with them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response

from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.accounts.auth import current_admin
from impserver.domains.accounts.models import Employee
from impserver.domains.clients import queries as client_queries
from impserver.domains.clients.schemas import ClientRead, ContactRead
from impserver.domains.integrations import actions, queries
from impserver.domains.integrations.auth import api_reader, api_writer
from impserver.domains.integrations.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    Integration,
    PublicClient,
    PublicContactCreate,
    PublicContactUpdate,
    PublicReply,
    PublicTransfer,
    WebhookCreate,
    WebhookDeliveryRead,
    WebhookRead,
    WebhookUpdate,
)
from impserver.domains.requests import queries as request_queries
from impserver.domains.requests.schemas import RequestCard, RequestDetail, RequestStatus
from impserver.domains.rooms.messaging import history_page
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services, get_services

PUBLIC_API_TAG = "Public API"
PUBLIC_API_DESCRIPTION = (
    "For integrations (a CRM, a shop, analytics), called with an API token that an "
    "administrator makes in Administration → API tokens: `Authorization: Bearer imp_…`. "
    "A token has the `read` scope, the `write` scope or both, and may be held to one resource "
    "(site or bot): it then sees and changes only that resource's requests and clients. "
    "Replies, closing and transfers are done for the employee responsible for the request, so "
    "the request must be assigned (409 `api_request_not_assigned` otherwise); the history "
    "names that employee with the token's name as `via`. "
    "Errors: 401 no token, a wrong or revoked one; 403 a scope the token lacks or another "
    "resource; 404 unknown ids; 422 invalid bodies, each wrong field named in `errors`; "
    "429 past the token's calls per minute, with `Retry-After`."
)

admin_router = api_router("/api/admin", "administration")
public_router = api_router("/api/v1", PUBLIC_API_TAG)

Id = Annotated[int, Path(ge=1, le=LARGEST_ID)]
Before = Annotated[
    int | None, Query(ge=1, le=LARGEST_ID, description="Only items with a smaller id")
]
Limit = Annotated[int, Query(ge=1, le=100)]
ResourceFilter = Annotated[
    int | None, Query(ge=1, le=LARGEST_ID, description="Only this resource's")
]


# -- administration -----------------------------------------------------------------------------


@admin_router.get("/api-tokens", response_model=list[ApiTokenRead])
async def list_tokens(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> list[ApiTokenRead]:
    """Every API token, newest first, revoked ones included; never their secrets."""
    async with services.db.read() as session:
        return await queries.all_tokens(session)


@admin_router.post("/api-tokens", response_model=ApiTokenCreated, status_code=201)
async def create_token(
    data: ApiTokenCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> ApiTokenCreated:
    """A new token; its ``secret`` is in this answer only (IMP keeps a digest of it)."""
    return await actions.create_token(services, admin, data)


@admin_router.post("/api-tokens/{token_id}/revoke", response_model=ApiTokenRead)
async def revoke_token(
    token_id: Id,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> ApiTokenRead:
    """The token is refused from its next call on."""
    return await actions.revoke_token(services, admin, token_id)


# -- the public API -----------------------------------------------------------------------------


@public_router.get("/requests", response_model=list[RequestCard])
async def list_requests(
    status: RequestStatus | None = Query(default=None),
    resource_id: ResourceFilter = None,
    client_id: int | None = Query(default=None, ge=1, le=LARGEST_ID),
    before_id: Before = None,
    limit: Limit = 50,
    caller: Integration = Depends(api_reader),
    services: Services = Depends(get_services),
) -> list[RequestCard]:
    """Requests, newest first; page back with ``before_id`` set to the last id of a page."""
    async with services.db.read() as session:
        return await queries.list_requests(
            session,
            caller,
            status=status,
            resource_id=resource_id,
            client_id=client_id,
            before_id=before_id,
            limit=limit,
        )


@public_router.get("/requests/{request_id}", response_model=RequestDetail)
async def read_request(
    request_id: Id,
    caller: Integration = Depends(api_reader),
    services: Services = Depends(get_services),
) -> RequestDetail:
    """A request with its history (every change of state, who made it, where it went)."""
    async with services.db.read() as session:
        request = await queries.request_of(session, caller, request_id)
        return await request_queries.detail(session, request, 0)


@public_router.get("/requests/{request_id}/messages", response_model=list[MessageRead])
async def request_messages(
    request_id: Id,
    before_id: Before = None,
    limit: Limit = 50,
    caller: Integration = Depends(api_reader),
    services: Services = Depends(get_services),
) -> list[MessageRead]:
    """The request's messages, oldest first, up to ``limit`` before ``before_id``: the client's,
    the employees' replies, their notes (``kind`` "note", never shown to the client) and the
    system lines of its history (``kind`` "system")."""
    async with services.db.read() as session:
        request = await queries.request_of(session, caller, request_id)
        return await history_page(session, request.room_id, before_id=before_id, limit=limit)


@public_router.post("/requests/{request_id}/messages", response_model=MessageRead, status_code=201)
async def reply(
    data: PublicReply,
    response: Response,
    request_id: Id,
    caller: Integration = Depends(api_writer),
    services: Services = Depends(get_services),
) -> MessageRead:
    """A reply to the client, sent as the employee responsible for the request (it must be
    assigned). Sent again with the same ``client_message_id``, it answers 200 with the first."""
    message, created = await actions.reply(services, caller, request_id, data)
    if not created:
        response.status_code = 200
    return message


@public_router.post("/requests/{request_id}/close", status_code=204)
async def close(
    request_id: Id,
    caller: Integration = Depends(api_writer),
    services: Services = Depends(get_services),
) -> None:
    """Close the request, as its assignee would ("Close request")."""
    await actions.close(services, caller, request_id)


@public_router.post("/requests/{request_id}/transfer", status_code=204)
async def transfer(
    data: PublicTransfer,
    request_id: Id,
    caller: Integration = Depends(api_writer),
    services: Services = Depends(get_services),
) -> None:
    """Transfer the request to another queue of its resource, as its assignee would ("Transfer
    to queue"); it waits there for anyone serving that queue."""
    await actions.transfer(services, caller, request_id, data)


@public_router.get("/clients", response_model=list[PublicClient])
async def list_clients(
    resource_id: ResourceFilter = None,
    before_id: Before = None,
    limit: Limit = 50,
    caller: Integration = Depends(api_reader),
    services: Services = Depends(get_services),
) -> list[PublicClient]:
    """Clients, newest first; page back with ``before_id``."""
    async with services.db.read() as session:
        return await queries.list_clients(
            session, caller, resource_id=resource_id, before_id=before_id, limit=limit
        )


@public_router.get("/clients/{client_id}", response_model=ClientRead)
async def read_client(
    client_id: Id,
    caller: Integration = Depends(api_reader),
    services: Services = Depends(get_services),
) -> ClientRead:
    """A client with their contacts and their latest requests."""
    async with services.db.read() as session:
        client = await queries.client_of(session, caller, client_id)
        return await client_queries.client_read(session, client)


@public_router.get("/clients/{client_id}/contacts", response_model=list[ContactRead])
async def list_contacts(
    client_id: Id,
    caller: Integration = Depends(api_reader),
    services: Services = Depends(get_services),
) -> list[ContactRead]:
    """The client's contacts; hidden ones (no longer valid) included, marked ``is_hidden``."""
    async with services.db.read() as session:
        client = await queries.client_of(session, caller, client_id)
        return (await client_queries.client_read(session, client)).contacts


@public_router.post("/clients/{client_id}/contacts", response_model=ContactRead, status_code=201)
async def add_contact(
    data: PublicContactCreate,
    client_id: Id,
    caller: Integration = Depends(api_writer),
    services: Services = Depends(get_services),
) -> ContactRead:
    """A new contact of the client (a phone or an e-mail address must look like one)."""
    return await actions.add_contact(services, caller, client_id, data)


@public_router.patch("/clients/{client_id}/contacts/{contact_id}", response_model=ContactRead)
async def change_contact(
    data: PublicContactUpdate,
    client_id: Id,
    contact_id: Id,
    caller: Integration = Depends(api_writer),
    services: Services = Depends(get_services),
) -> ContactRead:
    """Change a contact (kind and value together), or hide it (``is_hidden``: no longer valid,
    kept for the record) or show it again."""
    return await actions.change_contact(services, caller, client_id, contact_id, data)


# -- webhooks -----------------------------------------------------------------------------------


@admin_router.get("/webhooks", response_model=list[WebhookRead])
async def list_webhooks(
    _: Employee = Depends(current_admin), services: Services = Depends(get_services)
) -> list[WebhookRead]:
    """Every webhook, newest first, with its secret and how many deliveries wait."""
    async with services.db.read() as session:
        return await queries.all_webhooks(session)


@admin_router.post("/webhooks", response_model=WebhookRead, status_code=201)
async def create_webhook(
    data: WebhookCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> WebhookRead:
    """A new webhook. Its address must be http(s) and, unless the installation allows private
    addresses, resolve to public ones only (422 ``webhook_address_forbidden``)."""
    return await actions.create_webhook(services, admin, data)


@admin_router.patch("/webhooks/{webhook_id}", response_model=WebhookRead)
async def update_webhook(
    webhook_id: Id,
    data: WebhookUpdate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> WebhookRead:
    return await actions.update_webhook(services, admin, webhook_id, data)


@admin_router.post("/webhooks/{webhook_id}/secret", response_model=WebhookRead)
async def new_webhook_secret(
    webhook_id: Id,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> WebhookRead:
    """A new signing secret, used from the next attempt on."""
    return await actions.new_webhook_secret(services, admin, webhook_id)


@admin_router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(
    webhook_id: Id,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> Response:
    await actions.delete_webhook(services, admin, webhook_id)
    return Response(status_code=204)


@admin_router.get("/webhooks/{webhook_id}/deliveries", response_model=list[WebhookDeliveryRead])
async def list_deliveries(
    webhook_id: Id,
    before_id: Before = None,
    limit: Limit = 50,
    _: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> list[WebhookDeliveryRead]:
    """The hook's delivery log, newest first: each event's status, attempts, the receiver's
    last answer."""
    async with services.db.read() as session:
        return await queries.deliveries(session, webhook_id, before_id=before_id, limit=limit)


@admin_router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=WebhookDeliveryRead,
)
async def retry_delivery(
    webhook_id: Id,
    delivery_id: Id,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> WebhookDeliveryRead:
    """Send the delivery again now (409 ``webhook_disabled`` while the hook is off)."""
    return await actions.retry_delivery(services, admin, webhook_id, delivery_id)
