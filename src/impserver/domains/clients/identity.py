"""Who a widget visitor is, as the site says (IMP.setUser) and what it tells of them
(IMP.setAttributes).

A site vouches for its logged-in user with a hash: HMAC-SHA256 of the user's id, keyed with the
site's identity secret, which only the site's server and IMP know. A valid hash makes the
visitor that site's *verified* client, the one client per (site, user id): the same person from
any browser or device, with their whole history. Without a valid hash what the page says is
kept as the visitor's own word, shown as unverified, and never used to find or join anyone:
anybody can call IMP.setUser from a browser's console.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from impserver.channels.models import ChannelReceipt
from impserver.core.errors import Forbidden, InvalidInput, NotFound
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.blocking.models import BlockPart
from impserver.domains.calls.models import Call
from impserver.domains.clients.actions import announce_client, fit, revoke_visitor_tokens
from impserver.domains.clients.models import Client, Contact
from impserver.domains.clients.schemas import MAX_ATTRIBUTES, VisitorIdentity
from impserver.domains.ratings.models import Rating
from impserver.domains.requests.actions import BLOCKED_NOTICE, announce_new_owner
from impserver.domains.requests.models import OPEN_STATUSES, ClientRequest
from impserver.domains.resources.models import KIND_WEBSITE, Resource
from impserver.domains.rooms.models import Attachment, Message
from impserver.services import Services

UNKNOWN_CLIENT = "Your chat session is not valid; please reload the page."


def identity_hash(secret: str, user_id: str) -> str:
    """What the site's server computes: HMAC-SHA256 of the id (UTF-8) keyed with the secret
    (the text as shown to administrators, UTF-8), in lower-case hex."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def vouched(secret: str | None, user_id: str, given: str | None) -> bool:
    """Whether ``given`` is the hash of ``user_id`` with ``secret``, compared in constant time
    (a forger learns nothing from how long a refusal takes)."""
    if not secret or not given:
        return False
    return hmac.compare_digest(
        identity_hash(secret, user_id).encode(), given.lower().encode("ascii", "replace")
    )


@dataclass(frozen=True)
class Identified:
    client: Client
    verified: bool
    # The visitor is now another client, the one the site vouched for: their widget takes that
    # client's token and history.
    switched: bool


async def identify(services: Services, client_id: int, data: VisitorIdentity) -> Identified:
    """IMP.setUser from the visitor ``client_id``'s page."""
    try:
        return await _identify_once(services, client_id, data)
    except IntegrityError:
        # Another browser of the same person became their verified client at the very same
        # moment (the one client per site and id is a unique index): it is there to join now.
        return await _identify_once(services, client_id, data)


async def _identify_once(services: Services, client_id: int, data: VisitorIdentity) -> Identified:
    async with services.db.transaction() as uow:
        # Locked: two tabs of one browser identifying at once take turns.
        client = await uow.session.get(Client, client_id, with_for_update=True)
        resource = await uow.session.get(Resource, client.resource_id) if client else None
        if client is None or resource is None:
            raise NotFound(UNKNOWN_CLIENT, code="client_not_found")
        if client.is_blocked:
            raise Forbidden(BLOCKED_NOTICE, code="blocked")
        user_id = data.user_id
        secret = resource.identity_secret if resource.kind == KIND_WEBSITE else None
        if not vouched(secret, user_id, data.hash):
            claim = {
                name: value
                for name, value in (
                    ("id", user_id),
                    ("name", data.name),
                    ("email", data.email),
                    ("phone", data.phone),
                )
                if value
            }
            if client.verified_id is not None and client.verified_id != user_id:
                # The browser of a verified person now says it is someone else, unproven:
                # another person at the same computer. They get a client of their own and see
                # nothing of the verified person's.
                fresh = _new_client_like(client)
                fresh.unverified_identity = claim
                uow.session.add(fresh)
                await uow.session.flush()
                return Identified(fresh, verified=False, switched=True)
            if claim != client.unverified_identity:
                client.unverified_identity = claim
                await announce_client(uow, client)
            return Identified(client, verified=False, switched=False)

        target = await _verified_client(uow, client, resource, user_id)
        if target.is_blocked:
            raise Forbidden(BLOCKED_NOTICE, code="blocked")
        changed = await _take_profile(uow, target, data)
        if changed or target is not client:
            await announce_client(uow, target)
        return Identified(target, verified=True, switched=target is not client)


async def _verified_client(
    uow: UnitOfWork, client: Client, resource: Resource, user_id: str
) -> Client:
    """The client the site vouched for, the visitor's own client made so, or a new one.

    - The visitor already is that client: nothing changes.
    - No client of the site has this id yet: an anonymous visitor becomes it, keeping what they
      wrote before logging in (it was them, in this browser). A visitor verified as someone
      else gets a new client of their own: one person logged out and another logged in, and
      the second must see nothing of the first.
    - Another client has this id: that person is writing from a new browser or device. An
      anonymous visitor is joined into them (``_join``): their requests, open one included,
      move over, so the employee who is answering keeps answering in the same place and the
      person sees one history everywhere. A visitor verified as someone else only switches,
      taking nothing along.
    """
    if client.verified_id == user_id:
        return client
    known = await uow.session.scalar(
        select(Client)
        .where(Client.resource_id == resource.id)
        .where(Client.verified_id == user_id)
        .with_for_update()
    )
    if known is None:
        if client.verified_id is None:
            client.verified_id = user_id
            return client
        fresh = _new_client_like(client)
        fresh.verified_id = user_id
        uow.session.add(fresh)
        await uow.session.flush()
        return fresh
    if client.verified_id is None and not known.is_blocked:
        await _join(uow, client, known)
    return known


def _new_client_like(client: Client) -> Client:
    """A new client in the same browser: where it is and what it runs, nothing of its past."""
    return Client(
        resource_id=client.resource_id,
        external_id=f"web:{secrets.token_urlsafe(16)}",
        language=client.language,
        environment=dict(client.environment or {}),
        last_address=client.last_address,
    )


async def _join(uow: UnitOfWork, source: Client, target: Client) -> None:
    """The anonymous ``source`` was ``target`` all along: everything of it moves to ``target``
    and ``source`` is left empty, its tokens revoked (the widget that proved who it is gets
    ``target``'s token; the visitor's other tabs start again with it).

    Were both to have an open request, both stay open: each may have an employee answering,
    and closing either would drop a conversation in the middle. The visitor's next message goes
    to the newer one, and an employee closes the other as usual.
    """
    session = uow.session
    requests = select(ClientRequest.id).where(ClientRequest.client_id == source.id)
    request_ids = list(await session.scalars(requests))
    rooms = select(ClientRequest.room_id).where(ClientRequest.id.in_(request_ids))
    messages = select(Message.id).where(Message.room_id.in_(rooms))
    # Each narrowed by an indexed column: messages, files and calls are big tables.
    moves: list[tuple[type[Any], Any, Any]] = [
        (ClientRequest, ClientRequest.client_id, ClientRequest.id.in_(request_ids)),
        (Message, Message.author_client_id, Message.room_id.in_(rooms)),
        (Attachment, Attachment.uploader_client_id, Attachment.message_id.in_(messages)),
        (Attachment, Attachment.uploader_client_id, Attachment.message_id.is_(None)),
        (Call, Call.client_id, Call.request_id.in_(request_ids)),
        (Rating, Rating.client_id, Rating.client_id == source.id),
        (BlockPart, BlockPart.client_id, BlockPart.client_id == source.id),
        (ChannelReceipt, ChannelReceipt.client_id, ChannelReceipt.client_id == source.id),
    ]
    for model, column, narrowed in moves:
        await session.execute(
            update(model)
            .where(narrowed)
            .where(column == source.id)
            .values({column.key: target.id})
            .execution_options(synchronize_session=False)
        )
    known = {
        (c.kind, c.value)
        for c in await uow.session.scalars(select(Contact).where(Contact.client_id == target.id))
    }
    for contact in await uow.session.scalars(select(Contact).where(Contact.client_id == source.id)):
        if (contact.kind, contact.value) not in known:
            contact.client_id = target.id
    attributes = dict(target.attributes or {})
    for key, value in (source.attributes or {}).items():
        if key in attributes or len(attributes) < MAX_ATTRIBUTES:
            attributes[key] = value
    target.attributes = attributes
    if target.preferred_queue_id is None:
        target.preferred_queue_id = source.preferred_queue_id
    if not target.display_name:
        target.display_name = source.display_name
    target.environment = {**(target.environment or {}), **(source.environment or {})}
    target.language = source.language or target.language
    target.last_address = source.last_address or target.last_address
    source.merged_into_id = target.id
    await revoke_visitor_tokens(uow, source.id)
    await uow.session.flush()
    for request in await uow.session.scalars(
        select(ClientRequest)
        .where(ClientRequest.client_id == target.id)
        .where(ClientRequest.status.in_(OPEN_STATUSES))
        .order_by(ClientRequest.id)
    ):
        await announce_new_owner(uow, request)


async def _take_profile(uow: UnitOfWork, client: Client, data: VisitorIdentity) -> bool:
    """The verified person's name and contacts, as the site knows them. Whether anything
    changed. A contact an employee hid as no longer valid stays hidden."""
    changed = False
    if data.name:
        name = fit(data.name, Client.__table__.c.display_name)
        if client.display_name != name:
            client.display_name = name
            changed = True
    if client.unverified_identity:
        # The site's word now stands for what the visitor said.
        client.unverified_identity = {}
        changed = True
    wanted = [(kind, value) for kind, value in (("email", data.email), ("phone", data.phone))]
    wanted = [(kind, value) for kind, value in wanted if value]
    if wanted:
        known = {
            (c.kind, c.value)
            for c in await uow.session.scalars(
                select(Contact).where(Contact.client_id == client.id)
            )
        }
        for kind, value in wanted:
            if (kind, value) not in known:
                uow.session.add(Contact(client_id=client.id, kind=kind, value=value))
                changed = True
    return changed


async def set_attributes(
    services: Services, client_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    """IMP.setAttributes: the given keys replace the client's, ``None`` removes one. The client's
    attributes after the change."""
    async with services.db.transaction() as uow:
        client = await uow.session.get(Client, client_id, with_for_update=True)
        if client is None:
            raise NotFound(UNKNOWN_CLIENT, code="client_not_found")
        attributes = dict(client.attributes or {})
        for key, value in values.items():
            if value is None:
                attributes.pop(key, None)
            else:
                attributes[key] = value
        if len(attributes) > MAX_ATTRIBUTES:
            raise InvalidInput(
                f"A visitor has at most {MAX_ATTRIBUTES} attributes.",
                code="too_many_attributes",
                params={"max": MAX_ATTRIBUTES},
            )
        if attributes != (client.attributes or {}):
            client.attributes = attributes
            await announce_client(uow, client)
        return attributes
