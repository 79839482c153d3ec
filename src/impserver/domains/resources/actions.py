"""Administration of resources, their queues, and groups of specialists (A-1)."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select, update

from impserver.core.clock import utcnow
from impserver.core.errors import Conflict, InvalidInput, NotFound
from impserver.core.security import new_token
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.actions import ensure_admin
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.actions import revoke_verified_visitors
from impserver.domains.requests.models import STATUS_WAITING, ClientRequest
from impserver.domains.resources import queries
from impserver.domains.resources.events import ResourcesUpdated
from impserver.domains.resources.models import (
    KIND_TELEGRAM,
    KIND_VK,
    KIND_WEBSITE,
    KIND_WHATSAPP,
    Group,
    GroupMember,
    Queue,
    QueueAccess,
    Resource,
)
from impserver.domains.resources.schemas import (
    GroupCreate,
    GroupRead,
    IdentitySecretRead,
    MessengerResourceCreate,
    QueueCreate,
    QueueRead,
    QueueUpdate,
    ResourceCreate,
    ResourceRead,
    ResourceUpdate,
)
from impserver.realtime.events import Audience
from impserver.services import Services


async def _active_employee_ids(uow: UnitOfWork) -> list[int]:
    return list(await uow.session.scalars(select(Employee.id).where(Employee.is_active.is_(True))))


async def _announce_resource(uow: UnitOfWork, resource_id: int) -> ResourceRead:
    await uow.session.flush()
    resource = await queries.resource_read(uow.session, resource_id)
    # Queue and resource names are shown to every employee (transfer pickers, request cards).
    uow.emit(
        ResourcesUpdated(resource=resource), Audience.employees(await _active_employee_ids(uow))
    )
    return resource


async def _get_resource(uow: UnitOfWork, resource_id: int) -> Resource:
    resource = await uow.session.get(Resource, resource_id)
    if resource is None or resource.deleted_at is not None:
        raise NotFound("Resource not found.", code="resource_not_found")
    return resource


async def _get_queue(uow: UnitOfWork, queue_id: int) -> Queue:
    queue = await uow.session.get(Queue, queue_id)
    if queue is None or queue.archived_at is not None:
        raise NotFound("Queue not found.", code="queue_not_found")
    return queue


async def create_resource(
    services: Services, actor: Employee | None, data: ResourceCreate
) -> ResourceRead:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        resource = Resource(
            kind=KIND_WEBSITE,
            name=data.name,
            public_key=new_token(16),
            topic_choice_seconds=data.topic_choice_seconds,
            site_origins=data.site_origins or [],
            identity_secret=new_identity_secret(),
        )
        uow.session.add(resource)
        await uow.session.flush()
        return await _announce_resource(uow, resource.id)


def new_identity_secret() -> str:
    return secrets.token_hex(32)


async def _website(uow: UnitOfWork, resource_id: int) -> Resource:
    resource = await _get_resource(uow, resource_id)
    if resource.kind != KIND_WEBSITE:
        raise NotFound("Only a website has an identity secret.", code="not_a_website")
    return resource


async def identity_secret(
    services: Services, actor: Employee | None, resource_id: int
) -> IdentitySecretRead:
    """The website's identity secret (made now if it has none yet)."""
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        resource = await _website(uow, resource_id)
        if not resource.identity_secret:
            resource.identity_secret = new_identity_secret()
        return IdentitySecretRead(resource_id=resource.id, secret=resource.identity_secret)


async def regenerate_identity_secret(
    services: Services, actor: Employee | None, resource_id: int
) -> IdentitySecretRead:
    """A new identity secret: hashes made with the old one no longer verify anyone, and every
    verified visitor of the site must be vouched for again with the new one."""
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        resource = await _website(uow, resource_id)
        resource.identity_secret = new_identity_secret()
        await revoke_verified_visitors(uow, resource.id)
        return IdentitySecretRead(resource_id=resource.id, secret=resource.identity_secret)


def _refresh_channels(services: Services, uow: UnitOfWork) -> None:
    """Bots start and stop with their resources, once the change is committed."""

    async def refresh() -> None:
        for messenger in services.messengers.values():
            await messenger.refresh()

    uow.after_commit(refresh)


# A second connection of an account the team already connected, as each messenger names it.
_ALREADY_CONNECTED = {
    KIND_TELEGRAM: ("This bot is already connected.", "bot_already_connected"),
    KIND_VK: ("This community is already connected.", "community_already_connected"),
    KIND_WHATSAPP: ("This WhatsApp number is already connected.", "number_already_connected"),
}


async def connect_messenger(
    services: Services,
    actor: Employee | None,
    kind: str,
    data: MessengerResourceCreate,
) -> ResourceRead:
    """A messenger account (a Telegram bot, a VK community, a WhatsApp number) becomes a
    resource, once its messenger has accepted the credentials."""
    ensure_admin(actor)
    messenger = services.messengers.get(kind)
    if messenger is None:
        raise NotFound("No such messenger.", code="messenger_not_found")
    account = await messenger.connect(data.credentials())
    async with services.db.transaction() as uow:
        taken = await uow.session.scalar(
            select(Resource.id)
            .where(Resource.kind == kind)
            .where(Resource.deleted_at.is_(None))
            .where(Resource.public_key == account.public_key)
        )
        if taken is not None:
            detail, code = _ALREADY_CONNECTED.get(
                kind, ("This account is already connected.", "account_already_connected")
            )
            raise Conflict(detail, code=code)
        resource = Resource(
            kind=kind,
            name=data.name or account.name,
            public_key=account.public_key,
            topic_choice_seconds=data.topic_choice_seconds,
            site_origins=[],
            channel_config={**account.config, "bot_username": account.handle},
        )
        uow.session.add(resource)
        await uow.session.flush()
        _refresh_channels(services, uow)
        return await _announce_resource(uow, resource.id)


async def update_resource(
    services: Services, actor: Employee | None, resource_id: int, data: ResourceUpdate
) -> ResourceRead:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        resource = await _get_resource(uow, resource_id)
        if data.name is not None:
            resource.name = data.name
        if data.topic_choice_seconds is not None:
            resource.topic_choice_seconds = data.topic_choice_seconds
        if data.rating_enabled is not None:
            resource.rating_enabled = data.rating_enabled
        if data.rating_question is not None:
            resource.rating_question = data.rating_question
        if data.typing_preview is not None:
            resource.typing_preview = data.typing_preview
        if data.widget_look is not None:
            if resource.kind != KIND_WEBSITE:
                raise InvalidInput(
                    "widget_look: only a website has a chat to look after.",
                    code="widget_look_websites_only",
                )
            resource.widget_look = data.widget_look.model_dump()
        if (data.client_voice_calls or data.client_video_calls) and resource.kind != KIND_WEBSITE:
            raise InvalidInput(
                "Calls are available with website visitors only.", code="calls_website_only"
            )
        if data.client_voice_calls is not None:
            resource.client_voice_calls = data.client_voice_calls
        if data.client_video_calls is not None:
            resource.client_video_calls = data.client_video_calls
        if data.site_origins is not None:
            resource.site_origins = data.site_origins
        if data.is_active is not None:
            resource.is_active = data.is_active
        _refresh_channels(services, uow)
        return await _announce_resource(uow, resource.id)


async def delete_resource(services: Services, actor: Employee | None, resource_id: int) -> None:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        resource = await _get_resource(uow, resource_id)
        # Kept as a row: its clients' histories still refer to it.
        resource.deleted_at = utcnow()
        resource.is_active = False
        await uow.session.execute(
            update(Queue)
            .where(Queue.resource_id == resource.id)
            .where(Queue.archived_at.is_(None))
            .values(archived_at=utcnow())
        )
        queue_ids = select(Queue.id).where(Queue.resource_id == resource.id)
        await uow.session.execute(delete(QueueAccess).where(QueueAccess.queue_id.in_(queue_ids)))
        _refresh_channels(services, uow)


async def _make_sole_default(uow: UnitOfWork, queue: Queue) -> None:
    await uow.session.execute(
        update(Queue)
        .where(Queue.resource_id == queue.resource_id)
        .where(Queue.id != queue.id)
        .values(is_default=False)
    )
    queue.is_default = True


async def create_queue(
    services: Services, actor: Employee | None, resource_id: int, data: QueueCreate
) -> QueueRead:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        resource = await _get_resource(uow, resource_id)
        siblings = list(
            await uow.session.scalars(
                select(Queue)
                .where(Queue.resource_id == resource.id)
                .where(Queue.archived_at.is_(None))
            )
        )
        if any(q.name.casefold() == data.name.casefold() for q in siblings):
            raise Conflict(
                f"The resource already has a queue named “{data.name}”.",
                code="queue_name_taken",
                params={"name": data.name},
            )
        position = await uow.session.scalar(
            select(func.coalesce(func.max(Queue.position), -1)).where(
                Queue.resource_id == resource.id
            )
        )
        queue = Queue(
            resource_id=resource.id,
            name=data.name,
            offered_as_topic=data.offered_as_topic,
            position=int(position or 0) + 1,
        )
        uow.session.add(queue)
        await uow.session.flush()
        # The first queue of a resource is its default: requests must always have somewhere to go.
        if data.is_default or not any(q.is_default for q in siblings):
            await _make_sole_default(uow, queue)
        await _announce_resource(uow, resource.id)
        return QueueRead.model_validate(queue)


async def update_queue(
    services: Services, actor: Employee | None, queue_id: int, data: QueueUpdate
) -> QueueRead:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        queue = await _get_queue(uow, queue_id)
        if data.name is not None and data.name != queue.name:
            clash = await uow.session.scalar(
                select(Queue.id)
                .where(Queue.resource_id == queue.resource_id)
                .where(Queue.id != queue.id)
                .where(Queue.archived_at.is_(None))
                .where(func.lower(Queue.name) == data.name.lower())
            )
            if clash is not None:
                raise Conflict(
                    f"The resource already has a queue named “{data.name}”.",
                    code="queue_name_taken",
                    params={"name": data.name},
                )
            queue.name = data.name
        if data.offered_as_topic is not None:
            queue.offered_as_topic = data.offered_as_topic
        if data.position is not None:
            queue.position = data.position
        if data.is_default is True:
            await _make_sole_default(uow, queue)
        elif data.is_default is False and queue.is_default:
            raise InvalidInput(
                "A resource needs a default queue: make another queue the default instead.",
                code="default_queue_required",
            )
        await _announce_resource(uow, queue.resource_id)
        return QueueRead.model_validate(queue)


async def delete_queue(services: Services, actor: Employee | None, queue_id: int) -> None:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        queue = await _get_queue(uow, queue_id)
        others = await uow.session.scalar(
            select(func.count(Queue.id))
            .where(Queue.resource_id == queue.resource_id)
            .where(Queue.id != queue.id)
            .where(Queue.archived_at.is_(None))
        )
        if queue.is_default and others:
            raise Conflict(
                "This is the default queue: make another queue the default first.",
                code="default_queue_delete",
            )
        waiting = await uow.session.scalar(
            select(func.count(ClientRequest.id))
            .where(ClientRequest.queue_id == queue.id)
            .where(ClientRequest.status == STATUS_WAITING)
        )
        if waiting:
            raise Conflict(
                f"{waiting} request(s) are waiting in this queue: "
                "transfer them before deleting it.",
                code="queue_has_waiting",
                params={"count": waiting},
            )
        queue.archived_at = utcnow()
        await uow.session.execute(delete(QueueAccess).where(QueueAccess.queue_id == queue.id))
        await _announce_resource(uow, queue.resource_id)


async def create_group(services: Services, actor: Employee | None, data: GroupCreate) -> GroupRead:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        await _get_resource(uow, data.resource_id)
        await _ensure_group_name_free(uow, data.resource_id, data.name)
        group = Group(name=data.name, resource_id=data.resource_id)
        uow.session.add(group)
        await uow.session.flush()
        return await queries.group_read(uow.session, group.id)


async def _ensure_group_name_free(
    uow: UnitOfWork, resource_id: int, name: str, except_id: int | None = None
) -> None:
    query = (
        select(Group.id)
        .where(Group.resource_id == resource_id)
        .where(func.lower(Group.name) == name.lower())
    )
    if except_id is not None:
        query = query.where(Group.id != except_id)
    if await uow.session.scalar(query) is not None:
        raise Conflict(
            f"The resource already has a group named “{name}”.",
            code="group_name_taken",
            params={"name": name},
        )


async def _get_group(uow: UnitOfWork, group_id: int) -> Group:
    group = await uow.session.get(Group, group_id)
    if group is None:
        raise NotFound("Group not found.", code="group_not_found")
    return group


async def rename_group(
    services: Services, actor: Employee | None, group_id: int, name: str
) -> GroupRead:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        group = await _get_group(uow, group_id)
        await _ensure_group_name_free(uow, group.resource_id, name, except_id=group.id)
        group.name = name
        await uow.session.flush()
        return await queries.group_read(uow.session, group.id)


async def delete_group(services: Services, actor: Employee | None, group_id: int) -> None:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        group = await _get_group(uow, group_id)
        await uow.session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
        await uow.session.delete(group)


async def set_group_members(
    services: Services, actor: Employee | None, group_id: int, employee_ids: list[int]
) -> GroupRead:
    ensure_admin(actor)
    wanted = set(employee_ids)
    async with services.db.transaction() as uow:
        group = await _get_group(uow, group_id)
        known = set(await uow.session.scalars(select(Employee.id).where(Employee.id.in_(wanted))))
        if unknown := wanted - known:
            raise NotFound(
                f"No such employee: {', '.join(map(str, sorted(unknown)))}.",
                code="employee_not_found",
            )
        await uow.session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
        uow.session.add_all(GroupMember(group_id=group.id, employee_id=e) for e in sorted(wanted))
        await uow.session.flush()
        return await queries.group_read(uow.session, group.id)
