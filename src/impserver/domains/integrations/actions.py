"""Integrations: access tokens of the public API and webhooks, made by administrators, and
what an integration does in requests.

A token's secret is random (256 bits), so a fast digest (sha256) is all that is kept: nothing
can be guessed from it, and a call is checked with one indexed lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.clock import utcnow
from impserver.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from impserver.core.integration_events import CATALOGUE
from impserver.core.security import new_token, token_digest
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import ROLE_ADMIN, Employee
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients.schemas import ContactRead
from impserver.domains.integrations import queries
from impserver.domains.integrations.addresses import check_destination
from impserver.domains.integrations.events import WebhookDisabled
from impserver.domains.integrations.models import (
    DELIVERY_PENDING,
    OFF_AFTER_FAILURES,
    OFF_BY_ADMIN,
    ApiToken,
    Webhook,
    WebhookDelivery,
)
from impserver.domains.integrations.outbox import WEBHOOKS_CHANGED
from impserver.domains.integrations.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    Integration,
    PublicContactCreate,
    PublicContactUpdate,
    PublicReply,
    PublicTransfer,
    WebhookCreate,
    WebhookDeliveryRead,
    WebhookRead,
    WebhookUpdate,
)
from impserver.domains.requests import actions as request_actions
from impserver.domains.requests.actions import REQUEST_NOT_FOUND
from impserver.domains.requests.models import STATUS_ASSIGNED, ClientRequest
from impserver.domains.resources.models import Resource
from impserver.domains.rooms.schemas import MessageRead
from impserver.realtime.events import Audience
from impserver.services import Services

# Every secret starts so: a secret scanner (or a person) recognises an IMP token pasted somewhere.
SECRET_PREFIX = "imp_"
SHOWN_PREFIX_LENGTH = len(SECRET_PREFIX) + 6
# A webhook's signing secret, recognisable the same way.
WEBHOOK_SECRET_PREFIX = "whsec_"


async def create_token(
    services: Services, actor: Employee, data: ApiTokenCreate
) -> ApiTokenCreated:
    secret = SECRET_PREFIX + new_token(32)
    async with services.db.transaction() as uow:
        if (
            data.resource_id is not None
            and await uow.session.get(Resource, data.resource_id) is None
        ):
            raise InvalidInput(
                "The resource chosen for the token does not exist.",
                code="api_token_resource_unknown",
            )
        token = ApiToken(
            name=data.name,
            token_hash=token_digest(secret),
            prefix=secret[:SHOWN_PREFIX_LENGTH],
            can_read="read" in data.scopes,
            can_write="write" in data.scopes,
            resource_id=data.resource_id,
            created_by_id=actor.id,
            created_at=utcnow(),
        )
        uow.session.add(token)
        await uow.session.flush()
        read = await queries.one_token(uow.session, token)
    return ApiTokenCreated(**read.model_dump(), secret=secret)


async def revoke_token(services: Services, actor: Employee, token_id: int) -> ApiTokenRead:
    """The token stops working at the next call (every call looks its token up); revoking it
    again changes nothing."""
    async with services.db.transaction() as uow:
        token = await uow.session.get(ApiToken, token_id)
        if token is None:
            raise NotFound("API token not found.", code="api_token_not_found")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        await uow.session.flush()
        return await queries.one_token(uow.session, token)


async def note_use(services: Services, token_id: int) -> None:
    """When the token was last used (kept to the minute by the caller: not a write per call)."""
    async with services.db.transaction() as uow:
        await uow.session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
        )


# -- what an integration does in requests ---------------------------------------------------
#
# An integration is not an employee: it writes, closes and transfers for the employee responsible
# for the request, whose hands it lends itself to (a CRM button "reply" pressed by that agent).
# So a request must be assigned; the history names its assignee with the token's name as ``via``
# (in the message's ``meta`` for a reply), and the client sees the reply as the assignee's.


async def _responsible(services: Services, caller: Integration, request_id: int) -> Employee:
    async with services.db.read() as session:
        request = await session.get(ClientRequest, request_id)
        if request is None:
            raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
        caller.check_resource(request.resource_id)
        assignee = (
            await session.get(Employee, request.assignee_id)
            if request.status == STATUS_ASSIGNED and request.assignee_id is not None
            else None
        )
    if assignee is None:
        raise Conflict(
            "Only a request an employee is responsible for can be answered, closed or "
            "transferred through the API.",
            code="api_request_not_assigned",
        )
    return assignee


Done = TypeVar("Done")


async def _for_responsible(
    services: Services,
    caller: Integration,
    request_id: int,
    act: Callable[[Employee], Awaitable[Done]],
) -> Done:
    """``act`` for the request's assignee. The request may change hands between reading its
    assignee and acting (routing, a supervisor): the action then refuses the former assignee,
    and the call is made once more for whoever holds it now, or answered 409 if nobody does."""
    assignee = await _responsible(services, caller, request_id)
    try:
        return await act(assignee)
    except (Forbidden, NotFound):
        now = await _responsible(services, caller, request_id)
        if now.id == assignee.id:
            raise
        return await act(now)


async def reply(
    services: Services, caller: Integration, request_id: int, data: PublicReply
) -> tuple[MessageRead, bool]:
    return await _for_responsible(
        services,
        caller,
        request_id,
        lambda assignee: request_actions.employee_replies(
            services,
            assignee,
            request_id,
            body=data.body,
            attachment_ids=[],
            client_message_id=data.client_message_id,
            via=caller.name,
        ),
    )


async def close(services: Services, caller: Integration, request_id: int) -> None:
    await _for_responsible(
        services,
        caller,
        request_id,
        lambda assignee: request_actions.close(services, assignee, request_id, via=caller.name),
    )


async def transfer(
    services: Services, caller: Integration, request_id: int, data: PublicTransfer
) -> None:
    await _for_responsible(
        services,
        caller,
        request_id,
        lambda assignee: request_actions.transfer_to_queue(
            services, assignee, request_id, data.queue_id, via=caller.name
        ),
    )


async def add_contact(
    services: Services, caller: Integration, client_id: int, data: PublicContactCreate
) -> ContactRead:
    await _check_client(services, caller, client_id)
    return await client_actions.add_contact(services, client_id, data.kind, data.value)


async def change_contact(
    services: Services,
    caller: Integration,
    client_id: int,
    contact_id: int,
    data: PublicContactUpdate,
) -> ContactRead:
    await _check_client(services, caller, client_id)
    return await client_actions.change_contact(
        services,
        client_id,
        contact_id,
        kind=data.kind,
        value=data.value,
        is_hidden=data.is_hidden,
    )


async def _check_client(services: Services, caller: Integration, client_id: int) -> None:
    async with services.db.read() as session:
        await queries.client_of(session, caller, client_id)


# -- webhooks -----------------------------------------------------------------------------------


def _hooks_changed(uow: UnitOfWork, audience: Audience) -> None:
    """Every instance's outbox reads the hooks again before the next event (``outbox``)."""
    uow.control(WEBHOOKS_CHANGED, audience)


async def _check_resource(session: AsyncSession, resource_id: int | None) -> None:
    if resource_id is not None and await session.get(Resource, resource_id) is None:
        raise InvalidInput(
            "resource_id: the resource chosen for the webhook does not exist.",
            code="webhook_resource_unknown",
            params={"field": "resource_id"},
        )


async def create_webhook(services: Services, actor: Employee, data: WebhookCreate) -> WebhookRead:
    await check_destination(
        data.url, allow_private=services.settings.webhook_allow_private_addresses
    )
    async with services.db.transaction() as uow:
        await _check_resource(uow.session, data.resource_id)
        hook = Webhook(
            url=data.url,
            description=data.description,
            events=sorted(set(data.events), key=CATALOGUE.index),
            secret=WEBHOOK_SECRET_PREFIX + new_token(32),
            resource_id=data.resource_id,
            created_by_id=actor.id,
            created_at=utcnow(),
        )
        uow.session.add(hook)
        await uow.session.flush()
        _hooks_changed(uow, Audience.employee(actor.id))
        return await queries.one_webhook(uow.session, hook)


async def update_webhook(
    services: Services, actor: Employee, webhook_id: int, data: WebhookUpdate
) -> WebhookRead:
    if data.url is not None:
        await check_destination(
            data.url, allow_private=services.settings.webhook_allow_private_addresses
        )
    async with services.db.transaction() as uow:
        hook = await queries.webhook(uow.session, webhook_id)
        if data.url is not None:
            hook.url = data.url
        if data.description is not None:
            hook.description = data.description
        if data.events is not None:
            hook.events = sorted(set(data.events), key=CATALOGUE.index)
        if data.is_enabled is True and not hook.is_enabled:
            hook.is_enabled = True
            hook.disabled_reason = ""
            hook.disabled_at = None
            hook.failures_in_a_row = 0
        elif data.is_enabled is False and hook.is_enabled:
            hook.is_enabled = False
            hook.disabled_reason = OFF_BY_ADMIN
            hook.disabled_at = utcnow()
        await uow.session.flush()
        _hooks_changed(uow, Audience.employee(actor.id))
        return await queries.one_webhook(uow.session, hook)


async def new_webhook_secret(services: Services, actor: Employee, webhook_id: int) -> WebhookRead:
    """A new secret signs every attempt from now on, retries of older deliveries included."""
    async with services.db.transaction() as uow:
        hook = await queries.webhook(uow.session, webhook_id)
        hook.secret = WEBHOOK_SECRET_PREFIX + new_token(32)
        await uow.session.flush()
        return await queries.one_webhook(uow.session, hook)


async def delete_webhook(services: Services, actor: Employee, webhook_id: int) -> None:
    """The hook and its delivery log go; deliveries being sent at this moment still arrive."""
    async with services.db.transaction() as uow:
        hook = await queries.webhook(uow.session, webhook_id)
        await uow.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        )
        await uow.session.delete(hook)
        _hooks_changed(uow, Audience.employee(actor.id))


async def retry_delivery(
    services: Services, actor: Employee, webhook_id: int, delivery_id: int
) -> WebhookDeliveryRead:
    """One more attempt now (the log's "retry"), whatever became of the delivery; if it fails,
    it is retried with back-off as long as it is within the retry period from its event."""
    async with services.db.transaction() as uow:
        hook = await queries.webhook(uow.session, webhook_id)
        delivery = await uow.session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.webhook_id != hook.id:
            raise NotFound("Delivery not found.", code="webhook_delivery_not_found")
        if not hook.is_enabled:
            raise Conflict(
                "The webhook is switched off: switch it on to send its deliveries.",
                code="webhook_disabled",
            )
        delivery.status = DELIVERY_PENDING
        delivery.due_at = utcnow()
        await uow.session.flush()
    return WebhookDeliveryRead.model_validate(delivery, from_attributes=True)


async def switch_off_after_failures(uow: UnitOfWork, hook: Webhook) -> None:
    """Called by the delivery loop on the failed attempt that ends a run of them."""
    hook.is_enabled = False
    hook.disabled_reason = OFF_AFTER_FAILURES
    hook.disabled_at = utcnow()
    admins = Audience.employees(
        await uow.session.scalars(
            select(Employee.id).where(Employee.role == ROLE_ADMIN, Employee.is_active.is_(True))
        )
    )
    _hooks_changed(uow, admins)
    uow.emit(
        WebhookDisabled(webhook_id=hook.id, url=hook.url, failures=hook.failures_in_a_row),
        admins,
    )
