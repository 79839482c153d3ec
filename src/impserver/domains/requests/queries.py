from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.accounts.models import Employee
from impserver.domains.accounts.queries import unread_by_room
from impserver.domains.clients.models import Client
from impserver.domains.clients.user_agents import browser_of
from impserver.domains.requests.models import (
    OPEN_STATUSES,
    STATUS_ASSIGNED,
    STATUS_WAITING,
    ClientRequest,
    RequestDecline,
    RequestTransition,
)
from impserver.domains.requests.schemas import (
    ClientBrief,
    NamedRef,
    RequestCard,
    RequestDetail,
    TransitionRead,
    VisitorRequestState,
)
from impserver.domains.resources.models import Queue, QueueAccess, Resource
from impserver.domains.rooms.messaging import message_reads
from impserver.domains.rooms.models import Message, Room
from impserver.domains.rooms.schemas import MessageRead
from impserver.domains.routing import queries as routing_queries
from impserver.domains.routing.models import QueueRouting
from impserver.domains.tags.queries import tags_of_requests

_Model = TypeVar("_Model", Client, Resource, Queue, Room)


async def queue_and_assignee_names(
    session: AsyncSession, requests: Iterable[ClientRequest]
) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the requests' queues and assignees, by id: two queries for any number."""
    requests = list(requests)
    queue_ids = {r.queue_id for r in requests if r.queue_id}
    assignee_ids = {r.assignee_id for r in requests if r.assignee_id}
    queues = {
        queue_id: name
        for queue_id, name in await session.execute(
            select(Queue.id, Queue.name).where(Queue.id.in_(queue_ids))
        )
    }
    assignees = {
        employee_id: name
        for employee_id, name in await session.execute(
            select(Employee.id, Employee.name).where(Employee.id.in_(assignee_ids))
        )
    }
    return queues, assignees


def client_brief(client: Client, channel: str) -> ClientBrief:
    """The client as a card or a search hit names them."""
    return ClientBrief(
        id=client.id, name=client.display_name, is_blocked=client.is_blocked, channel=channel
    )


async def _by_id(
    session: AsyncSession, model: type[_Model], ids: Iterable[int]
) -> dict[int, _Model]:
    """Rows by id, taking those the session already holds as they are (in a transaction that
    just changed them, they are the current state) and querying only for the rest."""
    found: dict[int, _Model] = {}
    missing = []
    for row_id in set(ids):
        held = session.identity_map.get(session.identity_key(model, row_id))
        if held is not None:
            found[row_id] = held
        else:
            missing.append(row_id)
    if missing:
        for row in await session.scalars(select(model).where(model.id.in_(missing))):
            found[row.id] = row
    return found


async def cards(
    session: AsyncSession,
    requests: list[ClientRequest],
    viewer_id: int | None = None,
    newest: Iterable[MessageRead] = (),
    *,
    with_tags: bool = True,
) -> list[RequestCard]:
    """Cards for ``requests``; ``newest`` are messages the caller knows to be their rooms' last
    text messages (just sent), which saves looking them up."""
    if not requests:
        return []
    clients = await _by_id(session, Client, (r.client_id for r in requests))
    resources = await _by_id(session, Resource, (r.resource_id for r in requests))
    queues, routings = await routing_queries.queues_and_routings(
        session,
        {r.queue_id for r in requests if r.queue_id}
        | {q for r in requests if (q := r.taken_from_queue_id or r.queue_id)},
    )
    assignee_ids = {r.assignee_id for r in requests if r.assignee_id}
    names = (
        {
            row.id: row.name
            for row in await session.execute(
                select(Employee.id, Employee.name).where(Employee.id.in_(assignee_ids))
            )
        }
        if assignee_ids
        else {}
    )
    last = {m.room_id: m for m in newest}
    room_ids = {r.room_id for r in requests} - set(last)
    if room_ids:
        # The preview is what a person wrote last, not a system notice.
        last_ids = list(
            await session.scalars(
                select(func.max(Message.id))
                .where(Message.room_id.in_(room_ids))
                .where(Message.kind == "text")
                .where(Message.deleted_at.is_(None))
                .group_by(Message.room_id)
            )
        )
        messages = list(await session.scalars(select(Message).where(Message.id.in_(last_ids))))
        last.update((m.room_id, m) for m in await message_reads(session, messages))
    unread = await unread_by_room(session, viewer_id) if viewer_id else {}
    tags = await tags_of_requests(session, (r.id for r in requests)) if with_tags else None
    result = []
    for r in requests:
        client = clients[r.client_id]
        queue = queues.get(r.queue_id) if r.queue_id else None
        env = client.environment or {}
        result.append(
            RequestCard(
                id=r.id,
                room_id=r.room_id,
                status=r.status,
                client=client_brief(client, resources[r.resource_id].kind),
                resource=NamedRef(id=r.resource_id, name=resources[r.resource_id].name),
                resource_kind=resources[r.resource_id].kind,
                queue=NamedRef(id=queue.id, name=queue.name) if queue else None,
                assignee=NamedRef(id=r.assignee_id, name=names.get(r.assignee_id, ""))
                if r.assignee_id
                else None,
                page_url=str(env.get("page_url", "")),
                browser=browser_of(str(env.get("user_agent", ""))),
                language=client.language,
                address_blocked_before=r.address_blocked_before,
                created_at=r.created_at,
                waiting_since=r.waiting_since,
                awaiting_reply_since=r.awaiting_reply_since,
                outside_hours=r.outside_hours,
                **_wait_thresholds(routings.get(r.taken_from_queue_id or r.queue_id or 0)),
                topic_due_at=r.topic_due_at,
                last_message=last.get(r.room_id),
                unread=unread.get(r.room_id, 0),
                client_read_upto=client.read_message_id,
                tags=tags.get(r.id, []) if tags is not None else None,
            )
        )
    return result


def _wait_thresholds(routing: QueueRouting | None) -> dict[str, int]:
    if routing is None:
        return {}
    return _wait_seconds(routing.wait_amber_minutes, routing.wait_red_minutes)


def _wait_seconds(amber_minutes: int | None, red_minutes: int | None) -> dict[str, int]:
    """A card's wait thresholds, from its queue's routing (none without one)."""
    if amber_minutes is None or red_minutes is None:
        return {}
    return {"wait_amber_seconds": amber_minutes * 60, "wait_red_seconds": red_minutes * 60}


_OPEN = ", ".join(f"'{status}'" for status in OPEN_STATUSES)

# A client's site and open request, with what the request's card shows beside them, in one
# statement for the driver's connection (see ``card_of_row``): the busiest widget send reads it.
# Its SQL suits PostgreSQL and SQLite alike; SQLite hands back the times as text (CARD_TIMES).
CLIENT_SITE_AND_OPEN_REQUEST_DRIVER = f"""
    SELECT clients.id AS client_id, clients.resource_id AS client_resource_id,
           clients.token_generation, clients.is_blocked, clients.display_name, clients.language,
           clients.last_seen_at, clients.read_message_id,
           clients.environment ->> 'page_url' AS page_url,
           clients.environment ->> 'user_agent' AS user_agent,
           resources.id AS resource_id, resources.kind AS resource_kind,
           resources.name AS resource_name, resources.is_active, resources.deleted_at,
           open.id, open.room_id, open.status, open.queue_id, open.taken_from_queue_id,
           open.assignee_id, open.address_blocked_before, open.created_at, open.waiting_since,
           open.awaiting_reply_since, open.outside_hours, open.topic_due_at,
           queues.name AS queue_name, routing.wait_amber_minutes, routing.wait_red_minutes,
           assignee.name AS assignee_name
    FROM clients
    JOIN resources ON resources.id = clients.resource_id
    LEFT JOIN requests open ON open.id = (
        SELECT max(requests.id) FROM requests
        WHERE requests.client_id = clients.id AND requests.status IN ({_OPEN})
    )
    LEFT JOIN queues ON queues.id = open.queue_id
    LEFT JOIN queue_routing routing
        ON routing.queue_id = coalesce(open.taken_from_queue_id, open.queue_id)
    LEFT JOIN employees assignee ON assignee.id = open.assignee_id
    WHERE clients.id = $1
"""


CARD_TIMES = frozenset(
    {
        "last_seen_at",
        "deleted_at",
        "created_at",
        "waiting_since",
        "awaiting_reply_since",
        "topic_due_at",
    }
)

# ``_viewers`` of a waiting request on the driver's connection: its queue's active servers who
# have not declined it.
QUEUE_VIEWERS_DRIVER = """
    SELECT queue_access.employee_id FROM queue_access
    JOIN employees ON employees.id = queue_access.employee_id
    WHERE queue_access.queue_id = $1 AND employees.is_active
      AND queue_access.employee_id NOT IN (
          SELECT employee_id FROM request_declines WHERE request_id = $2
      )
"""


def card_of_row(row: Mapping[str, Any], newest: MessageRead | None) -> RequestCard:
    """The card ``cards`` makes, from a row of ``CLIENT_SITE_AND_OPEN_REQUEST_DRIVER`` (whose
    request has just changed as the row says); without tags, as a client's message leaves
    them as they were."""
    return RequestCard(
        id=row["id"],
        room_id=row["room_id"],
        status=row["status"],
        client=ClientBrief(
            id=row["client_id"],
            name=row["display_name"],
            is_blocked=row["is_blocked"],
            channel=row["resource_kind"],
        ),
        resource=NamedRef(id=row["resource_id"], name=row["resource_name"]),
        resource_kind=row["resource_kind"],
        queue=NamedRef(id=row["queue_id"], name=row["queue_name"]) if row["queue_name"] else None,
        assignee=NamedRef(id=row["assignee_id"], name=row["assignee_name"] or "")
        if row["assignee_id"]
        else None,
        page_url=row["page_url"] or "",
        browser=browser_of(row["user_agent"] or ""),
        language=row["language"],
        address_blocked_before=row["address_blocked_before"],
        created_at=row["created_at"],
        waiting_since=row["waiting_since"],
        awaiting_reply_since=row["awaiting_reply_since"],
        outside_hours=row["outside_hours"],
        **_wait_seconds(row["wait_amber_minutes"], row["wait_red_minutes"]),
        topic_due_at=row["topic_due_at"],
        last_message=newest,
        unread=0,
        client_read_upto=row["read_message_id"],
        tags=None,
    )


async def card(
    session: AsyncSession,
    request: ClientRequest,
    viewer_id: int | None = None,
    newest: MessageRead | None = None,
    *,
    with_tags: bool = True,
) -> RequestCard:
    known = [newest] if newest else []
    return (await cards(session, [request], viewer_id, known, with_tags=with_tags))[0]


async def waiting_for(session: AsyncSession, employee_id: int) -> list[RequestCard]:
    """Queue: waiting requests of the queues the employee serves, oldest first, minus declined."""
    served = select(QueueAccess.queue_id).where(QueueAccess.employee_id == employee_id)
    declined = select(RequestDecline.request_id).where(RequestDecline.employee_id == employee_id)
    requests = list(
        await session.scalars(
            select(ClientRequest)
            .where(ClientRequest.status == STATUS_WAITING)
            .where(ClientRequest.queue_id.in_(served))
            .where(ClientRequest.id.not_in(declined))
            .order_by(ClientRequest.waiting_since, ClientRequest.id)
        )
    )
    return await cards(session, requests, employee_id)


async def assigned_to(session: AsyncSession, employee_id: int) -> list[RequestCard]:
    requests = list(
        await session.scalars(
            select(ClientRequest)
            .where(ClientRequest.status == STATUS_ASSIGNED)
            .where(ClientRequest.assignee_id == employee_id)
            .order_by(ClientRequest.assigned_at, ClientRequest.id)
        )
    )
    return await cards(session, requests, employee_id)


async def history(session: AsyncSession, request_id: int) -> list[TransitionRead]:
    transitions = list(
        await session.scalars(
            select(RequestTransition)
            .where(RequestTransition.request_id == request_id)
            .order_by(RequestTransition.id)
        )
    )
    people = {t.actor_employee_id for t in transitions} | {
        t.target_employee_id for t in transitions
    }
    names = {
        row.id: row.name
        for row in await session.execute(
            select(Employee.id, Employee.name).where(Employee.id.in_(people - {None}))
        )
    }
    queues = {
        row.id: row.name
        for row in await session.execute(
            select(Queue.id, Queue.name).where(
                Queue.id.in_({t.queue_id for t in transitions} - {None})
            )
        )
    }
    return [
        TransitionRead(
            id=t.id,
            kind=t.kind,
            actor=names.get(t.actor_employee_id) if t.actor_employee_id else None,
            queue=queues.get(t.queue_id) if t.queue_id else None,
            target=names.get(t.target_employee_id) if t.target_employee_id else None,
            details=t.details or {},
            created_at=t.created_at,
        )
        for t in transitions
    ]


async def detail(session: AsyncSession, request: ClientRequest, viewer_id: int) -> RequestDetail:
    base = await card(session, request, viewer_id)
    return RequestDetail(**base.model_dump(), history=await history(session, request.id))


async def visitor_state(
    session: AsyncSession, request: ClientRequest | None
) -> VisitorRequestState | None:
    if request is None:
        return None
    queue_name = None
    if request.queue_id:
        queue_name = await session.scalar(select(Queue.name).where(Queue.id == request.queue_id))
    operator = None
    if request.assignee_id:
        operator = await session.scalar(
            select(Employee.name).where(Employee.id == request.assignee_id)
        )
    position = expected = None
    if request.status == STATUS_WAITING and request.queue_id is not None:
        position = await routing_queries.position_in_queue(session, request)
        expected = await routing_queries.expected_wait_seconds(session, request.queue_id)
    return _visitor_state(request, queue_name, operator, position, expected)


def _visitor_state(
    request: ClientRequest,
    queue_name: str | None,
    operator: str | None,
    position: int | None,
    expected_wait_seconds: int | None,
) -> VisitorRequestState:
    return VisitorRequestState(
        id=request.id,
        status=request.status,
        queue_name=queue_name,
        operator_name=operator,
        topic_due_at=request.topic_due_at,
        topic_picked=request.topic_picked_by_client,
        position=position,
        expected_wait_seconds=expected_wait_seconds,
    )


async def waiting_visitor_states(
    session: AsyncSession, queue_id: int
) -> list[tuple[int, VisitorRequestState]]:
    """(client id, state) of every request waiting in the queue: their places after a move."""
    queue_name = await session.scalar(select(Queue.name).where(Queue.id == queue_id))
    expected = await routing_queries.expected_wait_seconds(session, queue_id)
    return [
        (request.client_id, _visitor_state(request, queue_name, None, place, expected))
        for place, request in enumerate(
            await routing_queries.waiting_in_order(session, queue_id), start=1
        )
    ]
