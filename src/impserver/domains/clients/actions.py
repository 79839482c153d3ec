"""Client contact data (C-1) and names, edited by the employees who see the client."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update

from impserver.core.clock import utcnow
from impserver.core.errors import InvalidInput, NotFound
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.clients import queries
from impserver.domains.clients.events import ClientUpdated
from impserver.domains.clients.models import Client, Contact
from impserver.domains.clients.schemas import ClientRead, ContactRead, ContactWrite
from impserver.domains.requests.models import STATUS_ASSIGNED, STATUS_WAITING, ClientRequest
from impserver.domains.resources.queries import queue_server_ids
from impserver.realtime.events import Audience, visitor_key
from impserver.services import Services


def column_length(column: Any) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), column
    return length


def fit(value: str, column: Any) -> str:
    """``value`` cut to what ``column`` holds, ending in "…" when cut.

    Channels bring text IMP does not choose: a Telegram first and last name together run to 129
    characters, and PostgreSQL refuses a longer value than the column (SQLite stores it), which
    lost every message of such a user. Cutting the name is better than widening the column for
    every channel to come: the workspace shows names at this length.
    """
    limit = column_length(column)
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


NAME_LENGTH = column_length(Client.__table__.c.display_name)


# The gateway instruction that closes sockets, as for a revoked employee session.
_CLOSE_SOCKETS = "revoke:all"


async def revoke_visitor_tokens(uow: UnitOfWork, client_id: int) -> None:
    """Every visitor token of the client stops working: the widget's HTTP calls and socket are
    refused from now on, and its open sockets are closed once the transaction commits.

    The one place tokens are revoked (with ``revoke_verified_visitors``, for many at once), so
    whatever keeps tokens or visitors in memory can drop them here too.
    """
    client = await uow.session.get(Client, client_id)
    if client is None:
        return
    client.token_generation += 1
    uow.control(_CLOSE_SOCKETS, Audience.visitor(client_id))


async def revoke_verified_visitors(uow: UnitOfWork, resource_id: int) -> None:
    """Every verified client of a site must prove who they are again (its identity secret was
    regenerated, perhaps because it leaked: whoever forged a hash with the old one loses what
    it gave them). Their widgets start anew; the site's next IMP.setUser, with a hash made with
    the new secret, brings each person back to their client."""
    verified = (Client.resource_id == resource_id) & Client.verified_id.is_not(None)
    client_ids = list(await uow.session.scalars(select(Client.id).where(verified)))
    await uow.session.execute(
        update(Client)
        .where(verified)
        .values(token_generation=Client.token_generation + 1)
        .execution_options(synchronize_session="fetch")
    )
    uow.control(_CLOSE_SOCKETS, Audience(frozenset(visitor_key(i) for i in client_ids)))


async def announce_client(uow: UnitOfWork, client: Client) -> ClientRead:
    """The client's new card to the employees who see one of their open requests."""
    await uow.session.flush()
    read = await queries.client_read(uow.session, client)
    viewers: set[int] = set()
    for request in await uow.session.scalars(
        select(ClientRequest)
        .where(ClientRequest.client_id == client.id)
        .where(ClientRequest.status.in_((STATUS_WAITING, STATUS_ASSIGNED)))
    ):
        if request.status == STATUS_ASSIGNED and request.assignee_id:
            viewers.add(request.assignee_id)
        elif request.queue_id is not None:
            viewers |= set(await queue_server_ids(uow.session, request.queue_id))
    uow.emit(ClientUpdated(client=read), Audience.employees(viewers))
    return read


async def save_contacts(
    services: Services, actor: Employee, client_id: int, contacts: list[ContactWrite]
) -> ClientRead:
    """ "Update": the edited list of current contacts replaces the saved one.

    Contacts left out of the list are hidden, not deleted: they stay on record as no longer valid.
    """
    async with services.db.transaction() as uow:
        client = await queries.visible_client(uow.session, actor.id, client_id)
        saved = {
            c.id: c
            for c in await uow.session.scalars(
                select(Contact).where(Contact.client_id == client.id)
            )
        }
        kept: set[int] = set()
        for item in contacts:
            if item.id is not None:
                existing = saved.get(item.id)
                if existing is None:
                    raise NotFound(f"Contact {item.id} not found.", code="contact_not_found")
                if (existing.kind, existing.value) != (item.kind, item.value):
                    existing.kind, existing.value = item.kind, item.value
                    existing.updated_at = utcnow()
                existing.is_hidden = False
                kept.add(existing.id)
            else:
                uow.session.add(Contact(client_id=client.id, kind=item.kind, value=item.value))
        for contact in saved.values():
            if contact.id not in kept and not contact.is_hidden:
                contact.is_hidden = True
                contact.updated_at = utcnow()
        return await announce_client(uow, client)


async def client_leaves_details(
    services: Services, client_id: int, name: str, contacts: list[ContactWrite]
) -> None:
    """The client gave their name and ways to reach them (the offline form): kept on the
    client, beside what employees saved; a contact given twice is kept once."""
    async with services.db.transaction() as uow:
        client = await uow.session.get(Client, client_id)
        if client is None:
            raise NotFound("Unknown client.", code="client_not_found")
        if name:
            client.display_name = name[:NAME_LENGTH]
        known = {
            (c.kind, c.value)
            for c in await uow.session.scalars(
                select(Contact).where(Contact.client_id == client.id)
            )
        }
        for item in contacts:
            if (item.kind, item.value) not in known:
                uow.session.add(Contact(client_id=client.id, kind=item.kind, value=item.value))
        await announce_client(uow, client)


async def add_contact(services: Services, client_id: int, kind: str, value: str) -> ContactRead:
    """A contact added from outside the workspace (an integration's CRM): those who see the
    client get its new card."""
    async with services.db.transaction() as uow:
        client = await uow.session.get(Client, client_id)
        if client is None:
            raise NotFound(queries.CLIENT_NOT_FOUND, code="client_not_found")
        contact = Contact(client_id=client.id, kind=kind, value=value)
        uow.session.add(contact)
        await announce_client(uow, client)
        return ContactRead.model_validate(contact)


async def change_contact(
    services: Services,
    client_id: int,
    contact_id: int,
    *,
    kind: str | None,
    value: str | None,
    is_hidden: bool | None,
) -> ContactRead:
    """A contact changed from outside the workspace; what is None stays as it is."""
    async with services.db.transaction() as uow:
        client = await uow.session.get(Client, client_id)
        contact = await uow.session.get(Contact, contact_id)
        if client is None:
            raise NotFound(queries.CLIENT_NOT_FOUND, code="client_not_found")
        if contact is None or contact.client_id != client.id:
            raise NotFound("Contact not found.", code="contact_not_found")
        contact.kind = kind or contact.kind
        contact.value = value or contact.value
        if is_hidden is not None:
            contact.is_hidden = is_hidden
        contact.updated_at = utcnow()
        await announce_client(uow, client)
        return ContactRead.model_validate(contact)


async def set_contact_hidden(
    services: Services, actor: Employee, client_id: int, contact_id: int, hidden: bool
) -> ClientRead:
    async with services.db.transaction() as uow:
        client = await queries.visible_client(uow.session, actor.id, client_id)
        contact = await uow.session.get(Contact, contact_id)
        if contact is None or contact.client_id != client.id:
            raise NotFound("Contact not found.", code="contact_not_found")
        contact.is_hidden = hidden
        contact.updated_at = utcnow()
        return await announce_client(uow, client)


async def rename_client(
    services: Services, actor: Employee, client_id: int, name: str
) -> ClientRead:
    async with services.db.transaction() as uow:
        client = await queries.visible_client(uow.session, actor.id, client_id)
        if len(name) > NAME_LENGTH:
            raise InvalidInput("The name is too long.", code="client_name_too_long")
        client.display_name = name
        return await announce_client(uow, client)


async def record_visit(
    services: Services,
    *,
    resource_id: int,
    client_id: int | None,
    environment: dict[str, str],
    language: str,
    name: str,
    address: str = "",
) -> Client:
    """A widget visitor arrives: the known client (by signed id) or a new anonymous one."""
    async with services.db.transaction() as uow:
        client = await uow.session.get(Client, client_id) if client_id else None
        if client is None or client.resource_id != resource_id:
            client = Client(resource_id=resource_id, external_id=f"web:{secrets.token_urlsafe(16)}")
            uow.session.add(client)
        client.environment = {**(client.environment or {}), **environment}
        if language:
            client.language = language
        if address and client.last_address != address:
            client.last_address = address[:64]
        if name and not client.display_name:
            client.display_name = fit(name, Client.__table__.c.display_name)
        client.last_seen_at = utcnow()
        await uow.session.flush()
        return client


async def record_messenger_client(
    services: Services,
    *,
    resource_id: int,
    external_id: str,
    display_name: str,
    language: str,
    handle: tuple[str, str] | None = None,
) -> Client:
    """A messenger user writes: their client record, with their messenger handle as a contact.

    Everything here comes from the messenger, so each value is cut to its column.
    """
    columns = Client.__table__.c
    display_name = fit(display_name, columns.display_name)
    if handle is not None:
        handle = (
            fit(handle[0], Contact.__table__.c.kind),
            fit(handle[1], Contact.__table__.c.value),
        )
    async with services.db.transaction() as uow:
        client = await uow.session.scalar(
            select(Client)
            .where(Client.resource_id == resource_id)
            .where(Client.external_id == external_id)
        )
        if client is None:
            client = Client(
                resource_id=resource_id, external_id=external_id, display_name=display_name
            )
            uow.session.add(client)
            await uow.session.flush()
        if display_name and not client.display_name:
            client.display_name = display_name
        if language:
            client.language = language[: column_length(columns.language)]
        client.last_seen_at = utcnow()
        if handle is not None:
            kind, value = handle
            known = await uow.session.scalar(
                select(Contact.id)
                .where(Contact.client_id == client.id)
                .where(Contact.kind == kind)
                .where(Contact.value == value)
            )
            if known is None:
                uow.session.add(Contact(client_id=client.id, kind=kind, value=value))
        await uow.session.flush()
        return client
