"""Integrations: access tokens of the public API, made and revoked by administrators.

A token's secret is random (256 bits), so a fast digest (sha256) is all that is kept: nothing
can be guessed from it, and a call is checked with one indexed lookup.
"""

from __future__ import annotations

from sqlalchemy import update

from impserver.core.clock import utcnow
from impserver.core.errors import Conflict, InvalidInput, NotFound
from impserver.core.security import new_token, token_digest
from impserver.domains.accounts.models import Employee
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients.schemas import ContactRead
from impserver.domains.integrations import queries
from impserver.domains.integrations.models import ApiToken
from impserver.domains.integrations.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    Integration,
    PublicContactCreate,
    PublicContactUpdate,
    PublicReply,
    PublicTransfer,
)
from impserver.domains.requests import actions as request_actions
from impserver.domains.requests.actions import REQUEST_NOT_FOUND
from impserver.domains.requests.models import STATUS_ASSIGNED, ClientRequest
from impserver.domains.resources.models import Resource
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services

# Every secret starts so: a secret scanner (or a person) recognises an IMP token pasted somewhere.
SECRET_PREFIX = "imp_"
SHOWN_PREFIX_LENGTH = len(SECRET_PREFIX) + 6


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


async def reply(
    services: Services, caller: Integration, request_id: int, data: PublicReply
) -> tuple[MessageRead, bool]:
    assignee = await _responsible(services, caller, request_id)
    return await request_actions.employee_replies(
        services,
        assignee,
        request_id,
        body=data.body,
        attachment_ids=[],
        client_message_id=data.client_message_id,
        via=caller.name,
    )


async def close(services: Services, caller: Integration, request_id: int) -> None:
    assignee = await _responsible(services, caller, request_id)
    await request_actions.close(services, assignee, request_id, via=caller.name)


async def transfer(
    services: Services, caller: Integration, request_id: int, data: PublicTransfer
) -> None:
    assignee = await _responsible(services, caller, request_id)
    await request_actions.transfer_to_queue(
        services, assignee, request_id, data.queue_id, via=caller.name
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
