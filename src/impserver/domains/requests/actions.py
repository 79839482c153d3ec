"""The life of a client request (W-1…W-5, Q-1, Q-2): one place decides every transition.

Channels (the widget, messenger bots) call the ``client_*`` actions; the workspace calls the
employee ones. Every transition is recorded in the request's history and as a system message
in its room; events go to exactly the employees who can see the request, and the client hears
only what is meant for them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.channels.delivery import (
    owe_delivery,
    owe_delivery_on_driver,
)
from impserver.core.clock import utcnow
from impserver.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from impserver.core.integration_events import (
    MESSAGE_CREATED,
    REQUEST_ASSIGNED,
    REQUEST_CLOSED,
    REQUEST_CREATED,
    REQUEST_TRANSFERRED,
)
from impserver.core.unit_of_work import DriverUnit, SqliteUnit, UnitOfWork
from impserver.domains.accounts.events import SummaryUpdated
from impserver.domains.accounts.models import Employee
from impserver.domains.accounts.queries import summary
from impserver.domains.blocking import actions as blocking_actions
from impserver.domains.blocking import queries as blocking_queries
from impserver.domains.blocking.schemas import (
    DEFAULT_ADDRESS_PERIOD,
    DEFAULT_CLIENT_PERIOD,
    BlockPeriod,
)
from impserver.domains.calls.actions import end_calls_of_request
from impserver.domains.clients.models import Client, Contact
from impserver.domains.mentions import actions as mention_actions
from impserver.domains.mentions.schemas import MentionPlace
from impserver.domains.ratings import actions as rating_actions
from impserver.domains.ratings import questions as rating_questions
from impserver.domains.requests import queries
from impserver.domains.requests.events import (
    QueueLoadChanged,
    RequestMessageCreated,
    RequestRemoved,
    RequestTakenBack,
    RequestUpdated,
    VisitorMessage,
    VisitorRead,
    VisitorRequestChanged,
)
from impserver.domains.requests.integration_data import message_data, request_data
from impserver.domains.requests.models import (
    FIRST_ASSIGNED,
    OPEN_STATUSES,
    STATUS_ASSIGNED,
    STATUS_CHOOSING,
    STATUS_CLOSED,
    STATUS_WAITING,
    ClientRequest,
    RequestDecline,
    RequestTransition,
)
from impserver.domains.requests.schemas import RequestCard
from impserver.domains.resources.models import (
    KIND_WEBSITE,
    Group,
    GroupMember,
    Queue,
    QueueAccess,
    Resource,
)
from impserver.domains.resources.queries import overseer_ids, queue_server_ids
from impserver.domains.rooms.idempotency import send_idempotently
from impserver.domains.rooms.messaging import (
    append_message,
    employee_author,
    text_in_unit,
)
from impserver.domains.rooms.models import (
    KIND_NOTE,
    KIND_TEXT,
    ROOM_REQUEST,
    Message,
    Room,
    RoomMember,
)
from impserver.domains.rooms.schemas import MessageAuthor, MessageRead
from impserver.domains.routing import queries as routing_queries
from impserver.domains.tags import actions as tags_actions
from impserver.realtime.events import Audience, Event
from impserver.services import Services

REQUEST_NOT_FOUND = "Request not found."
BLOCKED_NOTICE = "Sorry, you can no longer send messages here."
# A client's last_seen_at is refreshed at most this often by their messages.
LAST_SEEN_PRECISION = timedelta(minutes=1)

CLOSED_TEXT = {
    "ru": "Сейчас мы не работаем. Ваше сообщение дождётся нас: мы вернёмся {back}.",
    "en": "We are not at work right now. Your message will wait for us: we are back {back}.",
}
CLOSED_TEXT_NO_RETURN = {
    "ru": "Сейчас мы не работаем. Ваше сообщение дождётся нас, и мы ответим.",
    "en": "We are not at work right now. Your message will wait for us, and we will answer.",
}

# Messenger clients see no live place in the queue as the widget shows: they are told it on
# entering the queue, and again each time it has moved up this many places.
PLACE_TEXT = {"ru": "Вы {n}-й в очереди.", "en": "You are number {n} in the queue."}
PLACE_STEP = 5

WAIT_TEXT = {
    "ru": "Спасибо! Пожалуйста, подождите: скоро вам ответит сотрудник.",
    "en": "Thank you! Please wait: an employee will answer you shortly.",
}


def client_language(client: Client) -> str:
    return "ru" if client.language.startswith("ru") else "en"


def visible_to_client(message: MessageRead | Message) -> bool:
    """Whether the client's side may see a message of their request: what people wrote to
    them, and the system lines meant for them; never an employees' note."""
    return message.kind == KIND_TEXT or bool((message.meta or {}).get("client_visible"))


def for_visitor(message: MessageRead) -> MessageRead:
    """The client sees who wrote by name and photo only; employee ids stay inside, and so does the
    integration a reply came through. A reply quotes for them only what they could read
    themselves: never a note."""
    changes: dict[str, Any] = {}
    if message.author.kind == "employee":
        changes["author"] = _named_only(message.author)
    if "via" in message.meta:
        # Which integration sent a reply for the employee is the team's business.
        changes["meta"] = {k: v for k, v in message.meta.items() if k != "via"}
    if (quote := message.reply_to) is not None:
        changes["reply_to"] = (
            quote.model_copy(
                update={"author": _named_only(quote.author), "channel_message_id": None}
            )
            if quote.kind == KIND_TEXT
            else None
        )
    return message.model_copy(update=changes) if changes else message


def _named_only(author: MessageAuthor) -> MessageAuthor:
    if author.kind != "employee":
        return author
    return MessageAuthor(kind="employee", id=None, name=author.name, avatar_url=author.avatar_url)


@dataclass(frozen=True)
class Snapshot:
    status: str
    queue_id: int | None
    assignee_id: int | None


def snapshot(request: ClientRequest) -> Snapshot:
    return Snapshot(request.status, request.queue_id, request.assignee_id)


async def _decliners(session: AsyncSession, request_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(RequestDecline.employee_id).where(RequestDecline.request_id == request_id)
        )
    )


async def _viewers(session: AsyncSession, request_id: int, state: Snapshot) -> set[int]:
    """Employees who see the request in this state: its queue's servers while it waits,
    its assignee once taken."""
    viewers: set[int] = set()
    if state.status == STATUS_WAITING and state.queue_id is not None:
        viewers |= set(await queue_server_ids(session, state.queue_id))
        viewers -= await _decliners(session, request_id)
    if state.status == STATUS_ASSIGNED and state.assignee_id is not None:
        viewers.add(state.assignee_id)
    return viewers


def _counts_in_live_view(before: Snapshot | None, now: Snapshot) -> bool:
    """Whether a change moves the live view's figures: requests waiting in queues, requests
    held by employees (a request still choosing its topic is in neither)."""
    return any(
        state is not None and state.status in (STATUS_WAITING, STATUS_ASSIGNED)
        for state in (before, now)
    )


async def _announce(
    uow: UnitOfWork,
    request: ClientRequest,
    before: Snapshot | None,
    *,
    tell_visitor: bool = True,
    newest: MessageRead | None = None,
    tags_unchanged: bool = False,
) -> None:
    """Tell those who see the request of its new state. ``newest`` is a text message just
    added to it, if any: the card's preview. ``tags_unchanged``: the card goes without its tags
    (one query less on a client's every message), and readers keep those they know."""
    await uow.session.flush()
    now = snapshot(request)
    now_viewers = await _viewers(uow.session, request.id, now)
    before_viewers = await _viewers(uow.session, request.id, before) if before else set()
    if now_viewers:
        card = await queries.card(uow.session, request, newest=newest, with_tags=not tags_unchanged)
        uow.emit(RequestUpdated(request=card), Audience.employees(now_viewers))
    if gone := before_viewers - now_viewers:
        uow.emit(RequestRemoved(request_id=request.id), Audience.employees(gone))
    left_queue = before is not None and before.status == STATUS_WAITING and before.queue_id
    if left_queue and now != before:
        await _tell_places(uow, left_queue)
    if now != before and _counts_in_live_view(before, now):
        uow.emit(
            QueueLoadChanged(resource_id=request.resource_id),
            Audience.employees(await overseer_ids(uow.session, request.resource_id)),
        )
    if not tell_visitor:
        return
    state = await queries.visitor_state(
        uow.session, request if request.status != STATUS_CLOSED else None
    )
    uow.emit(VisitorRequestChanged(request=state), Audience.visitor(request.client_id))


async def announce_new_owner(uow: UnitOfWork, request: ClientRequest) -> None:
    """The request now belongs to another client (an anonymous visitor proved who they are,
    and their requests joined that person's): its card again to those who see it, and its
    state to the client's widgets."""
    await _announce(uow, request, snapshot(request))


async def _deliver_message(uow: UnitOfWork, request: ClientRequest, message: MessageRead) -> None:
    viewers = await _viewers(uow.session, request.id, snapshot(request))
    uow.emit(
        RequestMessageCreated(request_id=request.id, message=message), Audience.employees(viewers)
    )
    if visible_to_client(message):
        uow.emit(VisitorMessage(message=for_visitor(message)), Audience.visitor(request.client_id))
        if message.author.kind != "client":
            await owe_delivery(uow, request, message.id)
        if message.kind == KIND_TEXT and message.author.kind in ("client", "employee"):
            uow.tell_integrations(
                MESSAGE_CREATED,
                request.resource_id,
                lambda: message_data(request.id, request.client_id, message),
            )


async def _record(
    uow: UnitOfWork,
    request: ClientRequest,
    kind: str,
    *,
    actor: Employee | None = None,
    queue_id: int | None = None,
    target: Employee | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """History row plus an internal system message, so the transition shows in the room."""
    uow.session.add(
        RequestTransition(
            request_id=request.id,
            kind=kind,
            actor_employee_id=actor.id if actor else None,
            queue_id=queue_id,
            target_employee_id=target.id if target else None,
            details=details or {},
        )
    )
    _keep_milestone(request, kind, actor)
    _tell_integrations(uow, request, kind, actor=actor, target=target, details=details)
    queue_name = None
    if queue_id is not None:
        queue_name = await uow.session.scalar(select(Queue.name).where(Queue.id == queue_id))
    room = await uow.session.get(Room, request.room_id)
    assert room is not None
    message, _ = await append_message(
        uow,
        room,
        body=kind,
        kind="system",
        meta={
            "transition": kind,
            "actor": actor.name if actor else None,
            "queue": queue_name,
            "target": target.name if target else None,
            "client_visible": False,
            **(details or {}),
        },
    )
    await _deliver_message(uow, request, message)


# What integrations hear of a transition: the event, and who did it, under which name.
_TOLD_AS = {
    "accepted": (REQUEST_ASSIGNED, "employee_id"),
    "auto_assigned": (REQUEST_ASSIGNED, "employee_id"),
    "transferred_to_queue": (REQUEST_TRANSFERRED, "by_employee_id"),
    "transferred_to_specialist": (REQUEST_TRANSFERRED, "by_employee_id"),
    "closed": (REQUEST_CLOSED, "by_employee_id"),
    "blocked": (REQUEST_CLOSED, "by_employee_id"),
}


def _tell_integrations(
    uow: UnitOfWork,
    request: ClientRequest,
    kind: str,
    *,
    actor: Employee | None,
    target: Employee | None,
    details: dict[str, Any] | None,
) -> None:
    told = _TOLD_AS.get(kind)
    if told is None:
        return
    name, actor_field = told
    # Assigned: the employee who has it now (the router, or they themselves, gave it to them).
    who = (target or actor) if name == REQUEST_ASSIGNED else actor
    more: dict[str, Any] = {
        "transition": kind,
        actor_field: who.id if who else None,
        "via": (details or {}).get("via"),
    }
    if kind == "transferred_to_specialist" and target is not None:
        more["to_employee_id"] = target.id
    uow.tell_integrations(name, request.resource_id, lambda: request_data(request, **more))


def _keep_milestone(request: ClientRequest, kind: str, actor: Employee | None) -> None:
    """The request's own record of when it first reached an employee, and who closed it: what
    the reports read instead of the history (``_enter_queue`` keeps when it first queued)."""
    if kind in FIRST_ASSIGNED and request.first_assigned_at is None:
        request.first_assigned_at = utcnow()
    elif kind == "closed":
        request.closed_by_id = actor.id if actor else None


def _first_response(request: ClientRequest, message: MessageRead, actor: Employee) -> None:
    if request.first_response_at is None:
        request.first_response_at = message.created_at
        request.first_responder_id = actor.id


async def _enter_queue(
    uow: UnitOfWork, request: ClientRequest, client: Client, queue_id: int, *, first_time: bool
) -> None:
    request.status = STATUS_WAITING
    request.queue_id = queue_id
    request.topic_due_at = None
    request.waiting_since = utcnow()
    if request.queued_at is None:
        request.queued_at = request.waiting_since
    if first_time:
        # W-4: the client is told to wait for an employee (outside business hours: until when).
        room = await uow.session.get(Room, request.room_id)
        assert room is not None
        language = client_language(client)
        body = WAIT_TEXT[language]
        if request.outside_hours:
            body = await _closed_text(uow.session, request.resource_id, language)
        elif await _is_messenger(uow.session, request.resource_id):
            await uow.session.flush()
            place = await routing_queries.position_in_queue(uow.session, request)
            body = f"{body} {PLACE_TEXT[language].format(n=place)}"
        notice, _ = await append_message(
            uow,
            room,
            body=body,
            kind="system",
            meta={"notice": "wait", "client_visible": True},
        )
        await _deliver_message(uow, request, notice)


async def _is_messenger(session: AsyncSession, resource_id: int) -> bool:
    kind = await session.scalar(select(Resource.kind).where(Resource.id == resource_id))
    return kind is not None and kind != KIND_WEBSITE


async def _tell_places(uow: UnitOfWork, queue_id: int) -> None:
    """Everyone behind a request that left the queue moved up a place: widget clients see it
    live, messenger clients are told at every PLACE_STEP-th place."""
    places = await queries.waiting_visitor_states(uow.session, queue_id)
    for client_id, place in places:
        uow.emit(VisitorRequestChanged(request=place), Audience.visitor(client_id))
    queue = await uow.session.get(Queue, queue_id)
    if queue is None or not await _is_messenger(uow.session, queue.resource_id):
        return
    for client_id, place in places:
        if place.position is None or place.position % PLACE_STEP:
            continue
        waiting = await uow.session.get(ClientRequest, place.id)
        client = await uow.session.get(Client, client_id)
        assert waiting is not None and client is not None
        notice, _ = await append_message(
            uow,
            waiting.room_id,
            body=PLACE_TEXT[client_language(client)].format(n=place.position),
            kind="system",
            meta={"notice": "place", "client_visible": True},
        )
        await _deliver_message(uow, waiting, notice)


async def _closed_text(session: AsyncSession, resource_id: int, language: str) -> str:
    schedule = await routing_queries.schedule_of(session, resource_id)
    back = schedule.back_at(utcnow()) if schedule else None
    if back is None or schedule is None:
        return CLOSED_TEXT_NO_RETURN[language]
    local = back.astimezone(ZoneInfo(schedule.time_zone))
    when = local.strftime("%d.%m %H:%M") + f" ({schedule.time_zone})"
    return CLOSED_TEXT[language].format(back=when)


async def _default_queue(session: AsyncSession, resource_id: int) -> Queue:
    queue = await session.scalar(
        select(Queue)
        .where(Queue.resource_id == resource_id)
        .where(Queue.archived_at.is_(None))
        .order_by(Queue.is_default.desc(), Queue.position, Queue.id)
        .limit(1)
    )
    if queue is None:
        raise Conflict(
            "This site is not taking requests right now: it has no queue set up.",
            code="site_has_no_queue",
        )
    return queue


async def topics_of(session: AsyncSession, resource_id: int) -> list[Queue]:
    """Queues offered to clients as topics; a choice is offered only if there are several (W-1)."""
    queues = list(
        await session.scalars(
            select(Queue)
            .where(Queue.resource_id == resource_id)
            .where(Queue.archived_at.is_(None))
            .where(Queue.offered_as_topic.is_(True))
            .order_by(Queue.position, Queue.id)
        )
    )
    return queues if len(queues) > 1 else []


# Statements of every client message, built once: building one costs about as much CPU as
# running it.
_OPEN_REQUEST_OF_CLIENT = (
    select(ClientRequest)
    .where(ClientRequest.client_id == bindparam("client_id"))
    .where(ClientRequest.status.in_(OPEN_STATUSES))
    .order_by(ClientRequest.id.desc())
    .limit(1)
)
# A client's message reads the client, their site and their open request (if any) at once.
_CLIENT_SITE_AND_OPEN_REQUEST = (
    select(Client, Resource, ClientRequest)
    .join(Resource, Resource.id == Client.resource_id)
    .outerjoin(
        ClientRequest,
        and_(ClientRequest.client_id == Client.id, ClientRequest.status.in_(OPEN_STATUSES)),
    )
    .where(Client.id == bindparam("client_id"))
    .order_by(ClientRequest.id.desc())
    .limit(1)
)


async def open_request_of(session: AsyncSession, client_id: int) -> ClientRequest | None:
    return await session.scalar(_OPEN_REQUEST_OF_CLIENT, {"client_id": client_id})


async def _active_queue(
    session: AsyncSession, queue_id: int | None, resource_id: int
) -> Queue | None:
    if queue_id is None:
        return None
    queue = await session.get(Queue, queue_id)
    if queue is None or queue.archived_at is not None or queue.resource_id != resource_id:
        return None
    return queue


async def _start_request(uow: UnitOfWork, client: Client, resource: Resource) -> ClientRequest:
    room = Room(kind=ROOM_REQUEST, name="")
    uow.session.add(room)
    await uow.session.flush()
    schedule = await routing_queries.schedule_of(uow.session, resource.id)
    request = ClientRequest(
        resource_id=resource.id,
        client_id=client.id,
        room_id=room.id,
        status=STATUS_CHOOSING,
        outside_hours=schedule is not None and not schedule.is_open(utcnow()),
        address_blocked_before=bool(client.last_address)
        and await blocking_queries.address_blocked_before(
            uow.session, resource.id, client.last_address
        ),
    )
    uow.session.add(request)
    await uow.session.flush()
    uow.session.add(RequestTransition(request_id=request.id, kind="created"))
    return request


async def _route_new_request(
    uow: UnitOfWork, request: ClientRequest, client: Client, resource: Resource
) -> None:
    """W-2/W-3/W-5: straight to the client's own queue, to a topic choice, or to the default."""
    preferred = await _active_queue(uow.session, client.preferred_queue_id, resource.id)
    if preferred is not None:
        request.topic_picked_by_client = True
        await _enter_queue(uow, request, client, preferred.id, first_time=True)
        return
    # Outside business hours the client leaves a message rather than picks a topic.
    offered = not request.outside_hours and await topics_of(uow.session, resource.id)
    if offered and resource.topic_choice_seconds > 0:
        request.status = STATUS_CHOOSING
        request.topic_due_at = utcnow() + timedelta(seconds=resource.topic_choice_seconds)
        return
    default = await _default_queue(uow.session, resource.id)
    await _enter_queue(uow, request, client, default.id, first_time=True)


class ClientFacts(Protocol):
    """What a channel's ``admit`` check reads of the client (a row, or the driver's values)."""

    @property
    def id(self) -> int: ...
    @property
    def resource_id(self) -> int: ...
    @property
    def token_generation(self) -> int: ...


class SiteFacts(Protocol):
    """What a channel's ``admit`` check reads of the client's site."""

    @property
    def id(self) -> int: ...
    @property
    def deleted_at(self) -> datetime | None: ...


Admit = Callable[[ClientFacts, SiteFacts], bool]


@dataclass(frozen=True)
class _ClientOnDriver:
    id: int
    resource_id: int
    token_generation: int


@dataclass(frozen=True)
class _SiteOnDriver:
    id: int
    deleted_at: datetime | None


async def visitor_sends(
    services: Services,
    client_id: int,
    *,
    body: str,
    attachment_ids: list[int],
    client_message_id: str | None,
    admit: Admit,
    refusal: DomainError,
) -> MessageRead:
    """``client_sends`` for a sender that needs only the message (the widget). A text to a
    request already waiting or taken, the ordinary case, is written on the driver's connection;
    anything else takes ``client_sends``, which answers it as always."""
    if not attachment_ids:
        with contextlib.suppress(_FullPathNeeded):
            return await send_idempotently(
                client_message_id,
                lambda: _client_text_on_driver(
                    services,
                    client_id,
                    body=body,
                    client_message_id=client_message_id,
                    admit=admit,
                ),
            )
    message, _ = await client_sends(
        services,
        client_id,
        body=body,
        attachment_ids=attachment_ids,
        client_message_id=client_message_id,
        admit=admit,
        refusal=refusal,
    )
    return message


_AWAITING_REPLY_DRIVER = "UPDATE requests SET awaiting_reply_since = $2 WHERE id = $1"
_CLIENT_SEEN_DRIVER = "UPDATE clients SET last_seen_at = $2 WHERE id = $1"


async def _client_text_on_driver(
    services: Services,
    client_id: int,
    *,
    body: str,
    client_message_id: str | None,
    admit: Admit,
) -> MessageRead:
    """What ``_client_sends_once`` does for a text to an open request past its topic choice:
    the same rows and events (the card, built from the one row read, without its tags), in a
    ``DriverUnit`` (PostgreSQL) or a ``SqliteUnit``. Any other case (a refused, blocked or
    unknown client, a site not taking requests, no request yet, a topic still to choose; on
    SQLite, a message a webhook may want) raises ``_FullPathNeeded`` before writing anything."""
    async with services.db.driver_unit() as unit:
        found = await unit.connection.fetchrow(
            queries.CLIENT_SITE_AND_OPEN_REQUEST_DRIVER, client_id
        )
        row = unit.named(found, queries.CARD_TIMES) if found is not None else None
        listener = services.db.integration_listener
        if (
            row is None
            or row["status"] not in (STATUS_WAITING, STATUS_ASSIGNED)
            or row["is_blocked"]
            or not row["is_active"]
            or row["deleted_at"] is not None
            or not admit(
                _ClientOnDriver(client_id, row["client_resource_id"], row["token_generation"]),
                _SiteOnDriver(row["resource_id"], row["deleted_at"]),
            )
            or (
                # What a webhook is told is kept by the PostgreSQL driver's unit only.
                isinstance(unit, SqliteUnit)
                and listener is not None
                and listener.wants(MESSAGE_CREATED, row["resource_id"])
            )
        ):
            raise _FullPathNeeded
        request_id = row["id"]
        viewers: set[int] = set()
        if row["status"] == STATUS_ASSIGNED:
            viewers.add(row["assignee_id"])
        elif row["queue_id"] is not None:
            viewers.update(
                r[0]
                for r in await unit.connection.fetch(
                    queries.QUEUE_VIEWERS_DRIVER, row["queue_id"], request_id
                )
            )

        def announce(message: MessageRead) -> list[tuple[Event, Audience]]:
            # As _deliver_message, then _announce of a state that did not change but for the wait
            # for a reply: the message to those who see the request and to the client, the card's
            # new preview to the former.
            card = queries.card_of_row(
                {**row, "awaiting_reply_since": row["awaiting_reply_since"] or message.created_at},
                message,
            )
            return [
                (
                    RequestMessageCreated(request_id=request_id, message=message),
                    Audience.employees(viewers),
                ),
                (VisitorMessage(message=for_visitor(message)), Audience.visitor(client_id)),
                (RequestUpdated(request=card), Audience.employees(viewers)),
            ]

        author = MessageAuthor(kind="client", id=client_id, name=row["display_name"])
        message, created = await text_in_unit(
            services,
            unit,
            row["room_id"],
            author,
            body=body,
            client_message_id=client_message_id,
            announce=announce,
        )
        if not created:
            return message
        now = message.created_at
        if row["awaiting_reply_since"] is None:
            await unit.connection.execute(_AWAITING_REPLY_DRIVER, request_id, unit.time(now))
        # Refreshed now and then, not on every message, as on the full path.
        if now - row["last_seen_at"] > LAST_SEEN_PRECISION:
            await unit.connection.execute(_CLIENT_SEEN_DRIVER, client_id, unit.time(now))
        if isinstance(unit, DriverUnit):
            unit.tell_integrations(
                MESSAGE_CREATED,
                row["resource_id"],
                lambda: message_data(request_id, client_id, message),
            )
        return message


async def client_sends(
    services: Services,
    client_id: int,
    *,
    body: str,
    attachment_ids: list[int] | None = None,
    client_message_id: str | None = None,
    meta: dict[str, Any] | None = None,
    admit: Admit | None = None,
    refusal: DomainError | None = None,
) -> tuple[MessageRead, ClientRequest]:
    """A client's message: joins their open request, or opens a new one (W-1).

    ``admit`` is the channel's check that the sender may still speak as this client of this
    site (the widget's visitor token), made on the rows this action reads anyway rather than
    in a query of its own; a client it refuses, or an unknown one, is answered with
    ``refusal``."""
    try:
        return await send_idempotently(
            client_message_id,
            lambda: _client_sends_once(
                services,
                client_id,
                body=body,
                attachment_ids=attachment_ids,
                client_message_id=client_message_id,
                meta=meta,
                admit=admit,
                refusal=refusal,
            ),
        )
    except blocking_actions.BlockedBy as refused:
        # The refused request left nothing behind; the block counts it.
        await blocking_actions.count_refusal(services, refused.part_id)
        raise


async def _client_sends_once(
    services: Services,
    client_id: int,
    *,
    body: str,
    attachment_ids: list[int] | None,
    client_message_id: str | None,
    meta: dict[str, Any] | None,
    admit: Admit | None = None,
    refusal: DomainError | None = None,
) -> tuple[MessageRead, ClientRequest]:
    async with services.db.transaction() as uow:
        found = (
            await uow.session.execute(_CLIENT_SITE_AND_OPEN_REQUEST, {"client_id": client_id})
        ).first()
        if found is None or (admit is not None and not admit(found[0], found[1])):
            raise refusal or NotFound("Unknown client.", code="client_not_found")
        client, resource, request = found
        if client.is_blocked:
            raise Forbidden(BLOCKED_NOTICE, code="blocked")
        if not resource.is_active or resource.deleted_at is not None:
            raise Conflict(
                "This site is not taking requests right now.", code="site_not_taking_requests"
            )
        is_new = request is None
        if request is None:
            contacts = await uow.session.scalars(
                select(Contact).where(Contact.client_id == client.id)
            )
            refusing = await blocking_queries.contact_block(uow.session, resource.id, contacts)
            if refusing is not None:
                raise blocking_actions.BlockedBy(refusing.id, BLOCKED_NOTICE)
            request = await _start_request(uow, client, resource)
            # The client may be choosing a topic at this very moment (the widget sends the
            # choice and the first message together; client_picks_topic writes the client's
            # row). Read the choice again now that this transaction writes, under the row's
            # lock: either the choice is seen here, or the choice sees this request.
            await uow.session.refresh(client, ["preferred_queue_id"], with_for_update=True)
        before = snapshot(request)
        message, created = await append_message(
            uow,
            request.room_id,
            body=body,
            author_client_id=client.id,
            attachment_ids=attachment_ids,
            client_message_id=client_message_id,
            meta=meta,
            author=MessageAuthor(kind="client", id=client.id, name=client.display_name),
        )
        if not created:
            return message, request
        now = utcnow()
        # Refreshed now and then, not on every message: it is a row update each time.
        if now - client.last_seen_at > LAST_SEEN_PRECISION:
            client.last_seen_at = now
        if is_new:
            await _route_new_request(uow, request, client, resource)
            services.routing_may_move(uow)
            new_request = request
            uow.tell_integrations(REQUEST_CREATED, resource.id, lambda: request_data(new_request))
        if request.awaiting_reply_since is None:
            request.awaiting_reply_since = now
        await _deliver_message(uow, request, message)
        # Another message in the same request changes its card, not what the visitor sees.
        await _announce(
            uow,
            request,
            None if is_new else before,
            tell_visitor=is_new or snapshot(request) != before,
            newest=message if message.kind == "text" else None,
            tags_unchanged=True,
        )
        return message, request


async def client_picks_topic(
    services: Services, client_id: int, queue_id: int
) -> ClientRequest | None:
    """W-1/W-2: the client chose a topic (before writing, or while the choice is open)."""
    async with services.db.transaction() as uow:
        client = await uow.session.get(Client, client_id)
        if client is None:
            raise NotFound("Unknown client.", code="client_not_found")
        if client.is_blocked:
            raise Forbidden(BLOCKED_NOTICE, code="blocked")
        topics = {q.id: q for q in await topics_of(uow.session, client.resource_id)}
        if queue_id not in topics:
            raise InvalidInput("Please choose one of the offered topics.", code="topic_not_offered")
        # W-5: a client who chose a queue themselves goes straight there next time.
        client.preferred_queue_id = queue_id
        request = await open_request_of(uow.session, client.id)
        if request is None:
            return None
        if request.status != STATUS_CHOOSING:
            raise Conflict(
                "Your request is already waiting for an employee.", code="already_waiting"
            )
        before = snapshot(request)
        request.topic_picked_by_client = True
        await _enter_queue(uow, request, client, queue_id, first_time=True)
        await _record(uow, request, "topic_chosen", queue_id=queue_id)
        await _announce(uow, request, before)
        services.routing_may_move(uow)
        return request


async def expire_topic_choices(services: Services, limit: int = 100) -> int:
    """W-3: requests whose topic choice ran out go to the default queue. Returns how many.

    The due time is a column, so this survives restarts; SKIP LOCKED lets several instances
    share the work without moving a request twice.
    """
    async with services.db.transaction() as uow:
        query = (
            select(ClientRequest)
            .where(ClientRequest.status == STATUS_CHOOSING)
            .where(ClientRequest.topic_due_at <= utcnow())
            .order_by(ClientRequest.topic_due_at)
            .limit(limit)
        )
        query = uow.claim(query)
        due = list(await uow.session.scalars(query))
        for request in due:
            client = await uow.session.get(Client, request.client_id)
            assert client is not None
            before = snapshot(request)
            default = await _default_queue(uow.session, request.resource_id)
            await _enter_queue(uow, request, client, default.id, first_time=True)
            await _record(uow, request, "default_queue", queue_id=default.id)
            await _announce(uow, request, before)
        if due:
            services.routing_may_move(uow)
        return len(due)


# -- employees -----------------------------------------------------------------------------


async def _serves(session: AsyncSession, employee_id: int, queue_id: int | None) -> bool:
    if queue_id is None:
        return False
    return (
        await session.scalar(
            select(QueueAccess.queue_id)
            .where(QueueAccess.queue_id == queue_id)
            .where(QueueAccess.employee_id == employee_id)
        )
    ) is not None


async def visible_request(
    session: AsyncSession, employee_id: int, request_id: int
) -> ClientRequest:
    """The request if the employee may see it (assignee, or it waits in a queue they serve)."""
    request = await session.get(ClientRequest, request_id)
    if request is None:
        raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
    if request.assignee_id == employee_id and request.status == STATUS_ASSIGNED:
        return request
    if request.status == STATUS_WAITING and await _serves(session, employee_id, request.queue_id):
        return request
    raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")


async def _readers(session: AsyncSession, request: ClientRequest) -> set[int]:
    """Who may read the request's history (``search.readable_by``): its assignee and the
    employees serving its queue."""
    readers = {request.assignee_id} if request.assignee_id is not None else set()
    if request.queue_id is not None:
        readers |= set(await queue_server_ids(session, request.queue_id))
    return readers


async def _owned_request(uow: UnitOfWork, actor: Employee, request_id: int) -> ClientRequest:
    request = await uow.session.get(ClientRequest, request_id)
    if request is None:
        raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
    if request.status != STATUS_ASSIGNED or request.assignee_id != actor.id:
        visible = request.status == STATUS_WAITING and await _serves(
            uow.session, actor.id, request.queue_id
        )
        if not visible and request.assignee_id != actor.id:
            raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
        raise Forbidden(
            "Only the employee responsible for this request can do that.", code="not_your_request"
        )
    return request


async def _set_room_member(
    uow: UnitOfWork, room_id: int, employee_id: int | None, *, keep: bool
) -> None:
    if employee_id is None:
        return
    if keep:
        if await uow.session.get(RoomMember, (room_id, employee_id)) is None:
            uow.session.add(RoomMember(room_id=room_id, employee_id=employee_id))
    else:
        await uow.session.execute(
            delete(RoomMember)
            .where(RoomMember.room_id == room_id)
            .where(RoomMember.employee_id == employee_id)
        )


async def _take_waiting(
    uow: UnitOfWork, request: ClientRequest, employee: Employee, *, only_from_served: bool
) -> bool:
    """Make a waiting request ``employee``'s. One conditional UPDATE: of two simultaneous takers
    (two accepts, an accept and the router) only one can match the row. False if it is no
    longer waiting (or, ``only_from_served``, not in a queue they serve)."""
    taking = (
        update(ClientRequest)
        .where(ClientRequest.id == request.id)
        .where(ClientRequest.status == STATUS_WAITING)
    )
    if only_from_served:
        served = select(QueueAccess.queue_id).where(QueueAccess.employee_id == employee.id)
        taking = taking.where(ClientRequest.queue_id.in_(served))
    result = await uow.session.execute(
        taking.values(
            status=STATUS_ASSIGNED,
            assignee_id=employee.id,
            assigned_at=utcnow(),
            taken_from_queue_id=ClientRequest.queue_id,
        ).execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    await uow.session.refresh(request)
    await _set_room_member(uow, request.room_id, employee.id, keep=True)
    return True


async def give_to(uow: UnitOfWork, request: ClientRequest, employee: Employee) -> bool:
    """Routing gives a waiting request to ``employee`` (the caller holds the routing lock and
    has checked their capacity). False if the request stopped waiting meanwhile."""
    before = snapshot(request)
    if not await _take_waiting(uow, request, employee, only_from_served=False):
        return False
    await _record(uow, request, "auto_assigned", target=employee, queue_id=request.queue_id)
    await _announce(uow, request, before)
    return True


async def _back_to_its_queue(
    uow: UnitOfWork, request: ClientRequest, assignee: Employee
) -> tuple[Queue, Snapshot]:
    """The request leaves ``assignee`` and waits again in the queue it was last taken from (the
    default queue if that one is gone). Returns that queue and the state before."""
    queue = await _active_queue(
        uow.session, request.taken_from_queue_id or request.queue_id, request.resource_id
    ) or await _default_queue(uow.session, request.resource_id)
    before = await _release(uow, request, assignee)
    request.status = STATUS_WAITING
    request.queue_id = queue.id
    request.waiting_since = utcnow()
    return queue, before


async def take_back(
    uow: UnitOfWork, request: ClientRequest, kind: str, *, keep_from_assignee: bool = False
) -> None:
    """Routing takes an assigned request back to the queue it was taken from (its assignee went
    Offline, or left a client unanswered too long). ``keep_from_assignee``: they are not offered
    it again, so that it goes to someone else."""
    assignee = await uow.session.get(Employee, request.assignee_id)
    assert assignee is not None
    queue, before = await _back_to_its_queue(uow, request, assignee)
    if (
        keep_from_assignee
        and await uow.session.get(RequestDecline, (request.id, assignee.id)) is None
    ):
        uow.session.add(RequestDecline(request_id=request.id, employee_id=assignee.id))
    await _record(uow, request, kind, target=assignee, queue_id=queue.id)
    await _announce(uow, request, before)
    reason = "silence" if kind == "reassigned_silence" else "offline"
    uow.emit(RequestTakenBack(request_id=request.id, reason=reason), Audience.employee(assignee.id))


async def accept(services: Services, actor: Employee, request_id: int) -> ClientRequest:
    """Q-1: the first employee to accept wins; the rest are told it is already taken."""
    async with services.db.transaction() as uow:
        request = await visible_or_taken(uow.session, actor.id, request_id)
        await routing_queries.hold_routing_lock(uow)
        capacity = await routing_queries.capacity_of(uow.session, actor.id)
        held = (await routing_queries.open_counts(uow.session, [actor.id])).get(actor.id, 0)
        if capacity is not None and held >= capacity:
            raise Conflict(
                f"You already hold {held} open requests, your most at once. "
                "Close or hand one over first.",
                code="at_capacity",
                params={"capacity": capacity},
            )
        before = snapshot(request)
        if not await _take_waiting(uow, request, actor, only_from_served=True):
            raise Conflict("This request has already been taken by another employee.", code="taken")
        await _record(uow, request, "accepted", actor=actor, queue_id=request.queue_id)
        await _announce(uow, request, before)
        return request


async def visible_or_taken(
    session: AsyncSession, employee_id: int, request_id: int
) -> ClientRequest:
    request = await session.get(ClientRequest, request_id)
    if request is None:
        raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
    if (
        not await _serves(session, employee_id, request.queue_id)
        and request.assignee_id != employee_id
    ):
        raise NotFound(REQUEST_NOT_FOUND, code="request_not_found")
    if request.status == STATUS_ASSIGNED and request.assignee_id != employee_id:
        raise Conflict("This request has already been taken by another employee.", code="taken")
    if request.status != STATUS_WAITING:
        raise Conflict("This request is no longer waiting in the queue.", code="not_waiting")
    return request


async def decline(services: Services, actor: Employee, request_id: int) -> None:
    """Q-1: hide a waiting request from this employee's Queue only."""
    async with services.db.transaction() as uow:
        request = await visible_request(uow.session, actor.id, request_id)
        if request.status != STATUS_WAITING:
            raise Conflict("Only waiting requests can be declined.", code="decline_not_waiting")
        if await uow.session.get(RequestDecline, (request.id, actor.id)) is None:
            uow.session.add(RequestDecline(request_id=request.id, employee_id=actor.id))
        uow.session.add(
            RequestTransition(request_id=request.id, kind="declined", actor_employee_id=actor.id)
        )
        uow.emit(RequestRemoved(request_id=request.id), Audience.employee(actor.id))


async def _release(uow: UnitOfWork, request: ClientRequest, actor: Employee) -> Snapshot:
    """The request stops being ``actor``'s (every transition that takes it from them comes
    here): they leave its room, and its calls and co-browsing with the client end."""
    before = snapshot(request)
    await _set_room_member(uow, request.room_id, actor.id, keep=False)
    request.assignee_id = None
    # Written before the calls are looked up: on PostgreSQL this waits for a call invitation
    # being added at the same moment (it locks the request), so that call is found and ended.
    await uow.session.flush()
    await end_calls_of_request(uow, request.id)
    return before


def _by_way_of(via: str | None) -> dict[str, Any] | None:
    """What the history keeps of an integration that acted for the employee (its token's name)."""
    return {"via": via} if via else None


async def close(
    services: Services, actor: Employee, request_id: int, *, via: str | None = None
) -> None:
    """Q-2b: processing ends; the client's next message opens a new request. ``via``: the
    integration that closed it for ``actor`` (the public API)."""
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        before = await _release(uow, request, actor)
        request.status = STATUS_CLOSED
        request.closed_at = utcnow()
        await _record(uow, request, "closed", actor=actor, details=_by_way_of(via))
        await _ask_for_rating(uow, request)
        await _announce(uow, request, before)
        services.routing_may_move(uow)


async def _ask_for_rating(uow: UnitOfWork, request: ClientRequest) -> None:
    """Where the site asks for them, the client is asked to rate the request just closed."""
    found = (
        await uow.session.execute(
            select(Resource, Client)
            .join(Client, Client.resource_id == Resource.id)
            .where(Resource.id == request.resource_id)
            .where(Client.id == request.client_id)
        )
    ).first()
    if found is None or not found[0].rating_enabled:
        return
    resource, client = found
    words = rating_questions.question(resource.rating_question, client_language(client))
    await _deliver_message(uow, request, await rating_actions.ask(uow, request, words))


async def block(
    services: Services,
    actor: Employee,
    request_id: int,
    reason: str = "",
    *,
    address_period: BlockPeriod = DEFAULT_ADDRESS_PERIOD,
    client_period: BlockPeriod = DEFAULT_CLIENT_PERIOD,
) -> None:
    """Q-2a: the client is blocked and can no longer create requests; this one ends."""
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        client = await uow.session.get(Client, request.client_id)
        assert client is not None
        await blocking_actions.block_client(
            uow,
            client,
            actor,
            reason=reason,
            address_period=address_period,
            client_period=client_period,
        )
        before = await _release(uow, request, actor)
        request.status = STATUS_CLOSED
        request.closed_at = utcnow()
        await _record(uow, request, "blocked", actor=actor)
        await _announce(uow, request, before)
        services.routing_may_move(uow)


async def return_to_queue(services: Services, actor: Employee, request_id: int) -> None:
    """Q-2c: back to the queue it was last taken from."""
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        queue, before = await _back_to_its_queue(uow, request, actor)
        await _record(uow, request, "returned", actor=actor, queue_id=queue.id)
        await _announce(uow, request, before)
        services.routing_may_move(uow)


async def transfer_to_queue(
    services: Services, actor: Employee, request_id: int, queue_id: int, *, via: str | None = None
) -> None:
    """Q-2d: to another queue of the same resource, where anyone serving it can take it.
    ``via``: the integration that transferred it for ``actor`` (the public API)."""
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        queue = await _active_queue(uow.session, queue_id, request.resource_id)
        if queue is None:
            raise InvalidInput(
                "Choose a queue of the same site or bot.", code="queue_other_resource"
            )
        before = await _release(uow, request, actor)
        request.status = STATUS_WAITING
        request.queue_id = queue.id
        request.waiting_since = utcnow()
        # A new queue means new people: earlier "not for me" marks no longer apply.
        await uow.session.execute(
            delete(RequestDecline).where(RequestDecline.request_id == request.id)
        )
        await _record(
            uow,
            request,
            "transferred_to_queue",
            actor=actor,
            queue_id=queue.id,
            details=_by_way_of(via),
        )
        await _announce(uow, request, before)
        services.routing_may_move(uow)


async def transfer_to_specialist(
    services: Services, actor: Employee, request_id: int, group_id: int, employee_id: int
) -> None:
    """Q-2e: to an employee of a group of the same resource, who becomes responsible."""
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        group = await uow.session.get(Group, group_id)
        if group is None or group.resource_id != request.resource_id:
            raise InvalidInput(
                "Choose a group of the same site or bot.", code="group_other_resource"
            )
        in_group = await uow.session.get(GroupMember, (group.id, employee_id))
        target = await uow.session.get(Employee, employee_id)
        if in_group is None or target is None or not target.is_active:
            raise InvalidInput(
                "Choose an active member of that group.", code="specialist_not_in_group"
            )
        if target.id == actor.id:
            raise InvalidInput("The request is already yours.", code="request_already_yours")
        before = await _release(uow, request, actor)
        request.assignee_id = target.id
        request.assigned_at = utcnow()
        await _set_room_member(uow, request.room_id, target.id, keep=True)
        await _record(
            uow,
            request,
            "transferred_to_specialist",
            actor=actor,
            target=target,
            details={"group": group.name},
        )
        await _announce(uow, request, before)
        services.routing_may_move(uow)


async def employee_replies(
    services: Services,
    actor: Employee,
    request_id: int,
    *,
    body: str,
    attachment_ids: list[int],
    client_message_id: str | None,
    reply_to_id: int | None = None,
    mention_ids: Collection[int] = (),
    via: str | None = None,
) -> tuple[MessageRead, bool]:
    """An employee's reply to the client; a retry with the same id returns the first one.
    ``reply_to_id``: the message of the request it answers (in a messenger, the reply goes out
    as an answer to the client's message there). ``via``: the integration that sent it for the
    employee (the public API), kept in the message's ``meta``."""
    if mention_ids:
        raise InvalidInput(
            "Mention colleagues in a note: the client reads every word of a reply.",
            code="mention_in_reply",
        )
    return await send_idempotently(
        client_message_id,
        lambda: _employee_replies_once(
            services,
            actor,
            request_id,
            body=body,
            attachment_ids=attachment_ids,
            client_message_id=client_message_id,
            reply_to_id=reply_to_id,
            via=via,
        ),
    )


async def _employee_replies_once(
    services: Services,
    actor: Employee,
    request_id: int,
    *,
    body: str,
    attachment_ids: list[int],
    client_message_id: str | None,
    reply_to_id: int | None,
    via: str | None = None,
) -> tuple[MessageRead, bool]:
    if not attachment_ids and not reply_to_id and not via:
        with contextlib.suppress(_FullPathNeeded):
            return await _employee_replies_on_driver(
                services, actor, request_id, body=body, client_message_id=client_message_id
            )
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        message, created = await append_message(
            uow,
            request.room_id,
            body=body,
            author_employee_id=actor.id,
            attachment_ids=attachment_ids,
            client_message_id=client_message_id,
            author=employee_author(actor),
            read_by_author=True,
            reply_to_id=reply_to_id,
            meta=_by_way_of(via),
        )
        if created:
            request.awaiting_reply_since = None
            _first_response(request, message, actor)
            await _deliver_message(uow, request, message)
        return message, created


class _FullPathNeeded(Exception):
    """The request is not the ordinary case the driver path serves (not found, not the actor's):
    nothing was written, and the full path answers as it always does."""


_OWNED_REQUEST_DRIVER = """
    SELECT requests.status, requests.assignee_id, requests.client_id, requests.room_id,
           requests.awaiting_reply_since IS NOT NULL AS awaiting,
           requests.first_response_at IS NULL AS unanswered, resources.kind,
           requests.resource_id
    FROM requests JOIN resources ON resources.id = requests.resource_id
    WHERE requests.id = $1
"""
_ANSWERED_DRIVER = """
    UPDATE requests SET awaiting_reply_since = NULL,
        first_response_at = coalesce(first_response_at, $2),
        first_responder_id = coalesce(first_responder_id, $3)
    WHERE id = $1
"""


async def _employee_replies_on_driver(
    services: Services,
    actor: Employee,
    request_id: int,
    *,
    body: str,
    client_message_id: str | None,
) -> tuple[MessageRead, bool]:
    """The reply of ``_employee_replies_once`` (text, no files) in a ``DriverUnit`` on
    PostgreSQL or a ``SqliteUnit``: the same rows and events, without the ORM session.
    Anything but the request's assignee replying, or on SQLite a reply a webhook may want,
    is ``_FullPathNeeded``."""
    async with services.db.driver_unit() as unit:
        request = await unit.connection.fetchrow(_OWNED_REQUEST_DRIVER, request_id)
        listener = services.db.integration_listener
        if (
            request is None
            or (request["status"], request["assignee_id"]) != (STATUS_ASSIGNED, actor.id)
            or (
                # What a webhook is told is kept by the PostgreSQL driver's unit only.
                isinstance(unit, SqliteUnit)
                and listener is not None
                and listener.wants(MESSAGE_CREATED, request["resource_id"])
            )
        ):
            raise _FullPathNeeded
        client_id = request["client_id"]
        message, created = await text_in_unit(
            services,
            unit,
            request["room_id"],
            employee_author(actor),
            body=body,
            client_message_id=client_message_id,
            # As _deliver_message: the assignee, the client, and the messenger if there is one.
            announce=lambda message: [
                (
                    RequestMessageCreated(request_id=request_id, message=message),
                    Audience.employees([actor.id]),
                ),
                (VisitorMessage(message=for_visitor(message)), Audience.visitor(client_id)),
            ],
        )
        if created:
            if request["awaiting"] or request["unanswered"]:
                await unit.connection.execute(
                    _ANSWERED_DRIVER, request_id, unit.time(message.created_at), actor.id
                )
            await owe_delivery_on_driver(unit, request_id, request["kind"], message.id)
            if isinstance(unit, DriverUnit):
                unit.tell_integrations(
                    MESSAGE_CREATED,
                    request["resource_id"],
                    lambda: message_data(request_id, client_id, message),
                )
        return message, created


async def tag_request(
    services: Services, actor: Employee, request_id: int, tag_ids: list[int]
) -> RequestCard:
    """The request's assignee sets its tags; those who see the request get its new card."""
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        await tags_actions.set_request_tags(uow, request.id, tag_ids)
        await _announce(uow, request, snapshot(request), tell_visitor=False)
        return await queries.card(uow.session, request, actor.id)


async def employee_writes_note(
    services: Services,
    actor: Employee,
    request_id: int,
    *,
    body: str,
    attachment_ids: list[int],
    client_message_id: str | None,
    reply_to_id: int | None = None,
    mention_ids: Collection[int] = (),
) -> tuple[MessageRead, bool]:
    """A note in the request for colleagues: kept in its history through transfers, shown to
    the employees who see the request, and never to the client. Unlike a reply, nothing here
    reaches the client's side: no widget event, no messenger delivery, and the visitor's own
    history leaves notes out (``visible_to_client``).

    Colleagues it mentions are told if they may read the request (they serve its queue);
    the note records those who may not, and they learn nothing of it."""

    async def write_once() -> tuple[MessageRead, bool]:
        async with services.db.transaction() as uow:
            request = await _owned_request(uow, actor, request_id)
            mentions = await mention_actions.plan_mentions(
                uow, actor.id, mention_ids, await _readers(uow.session, request)
            )
            message, created = await append_message(
                uow,
                request.room_id,
                body=body,
                kind=KIND_NOTE,
                author_employee_id=actor.id,
                attachment_ids=attachment_ids,
                client_message_id=client_message_id,
                author=employee_author(actor),
                read_by_author=True,
                reply_to_id=reply_to_id,
                meta=mentions.meta,
            )
            if created:
                viewers = await _viewers(uow.session, request.id, snapshot(request))
                uow.emit(
                    RequestMessageCreated(request_id=request.id, message=message),
                    Audience.employees(viewers),
                )
                if mentions.reachable:
                    client_name = await uow.session.scalar(
                        select(Client.display_name).where(Client.id == request.client_id)
                    )
                    place = MentionPlace(kind="request", id=request.id, name=client_name or "")
                    await mention_actions.record_mentions(uow, mentions, message, place)
            return message, created

    return await send_idempotently(client_message_id, write_once)


async def mark_read(services: Services, actor: Employee, request_id: int, message_id: int) -> None:
    """The assignee has seen the request's history up to ``message_id``. Their section
    counters change with it, in every tab they have open."""
    async with services.db.transaction() as uow:
        request = await _owned_request(uow, actor, request_id)
        member = await uow.session.get(RoomMember, (request.room_id, actor.id))
        room = await uow.session.get(Room, request.room_id)
        if member is None or room is None:
            return
        # Never past the newest message: a read mark names a message that exists.
        upto = min(message_id, room.last_message_id or 0)
        if upto <= member.last_read_message_id:
            return
        member.last_read_message_id = upto
        await uow.session.flush()
        await mention_actions.read_in_conversation(uow, actor.id, request.room_id, upto)
        uow.emit(
            SummaryUpdated(summary=await summary(uow.session, actor.id)),
            Audience.employee(actor.id),
        )
        # The client's messages show as read in the widget.
        uow.emit(VisitorRead(upto=upto), Audience.visitor(request.client_id))


async def unblock_client(services: Services, actor: Employee, client_id: int) -> None:
    if not actor.is_admin:
        raise Forbidden("Only administrators can unblock clients.", code="admins_only")
    async with services.db.transaction() as uow:
        client = await uow.session.get(Client, client_id)
        if client is None:
            raise NotFound("Client not found.", code="client_not_found")
        await blocking_actions.unblock_client(uow, client, actor)
