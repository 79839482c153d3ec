"""The website widget's public API and socket: translate HTTP/WebSocket into request actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response, WebSocket
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from impserver.channels.widget.visitors import (
    NOT_VALID,
    SOCKET_PROTOCOL,
    Visitor,
    bearer_token,
    current_visitor,
    read_token,
    refuse_token,
    throttle,
    throttle_all,
    visitor_admitted,
    visitor_from_token,
    visitor_token,
)
from impserver.core.clock import utcnow
from impserver.core.errors import Forbidden, NotAuthenticated, NotFound
from impserver.core.http import UPLOAD_BODY_BYTES, InputModel, api_router, client_ip
from impserver.core.lean_routes import LeanCall, LeanRoute
from impserver.domains.blocking import actions as blocking_actions
from impserver.domains.blocking import queries as blocking_queries
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients import identity
from impserver.domains.clients.schemas import ContactWrite, VisitorAttributes, VisitorIdentity
from impserver.domains.ratings import actions as rating_actions
from impserver.domains.ratings import queries as rating_queries
from impserver.domains.ratings.schemas import RatingCreate, RatingOutcome
from impserver.domains.requests import actions, queries, reading
from impserver.domains.requests.models import ClientRequest
from impserver.domains.requests.schemas import NamedRef, VisitorRequestState
from impserver.domains.resources.models import Resource
from impserver.domains.resources.schemas import WidgetLook, normalise_origin, widget_look_of
from impserver.domains.rooms.api import UPLOAD_REQUEST_BODY, uploaded_file
from impserver.domains.rooms.files import file_response
from impserver.domains.rooms.messaging import message_reads, save_upload
from impserver.domains.rooms.models import Attachment, Message
from impserver.domains.rooms.schemas import AttachmentRead, MessageCreate, MessageRead
from impserver.domains.routing import queries as routing_queries
from impserver.realtime.events import visitor_key
from impserver.realtime.gateway import Connection
from impserver.services import Services, get_services

router = api_router("/api/widget", "widget")

SESSIONS_PER_IP_PER_MINUTE = 30
MESSAGES_PER_VISITOR_PER_MINUTE = 30
MESSAGES_PER_IP_PER_MINUTE = 120
UPLOADS_PER_VISITOR_PER_MINUTE = 20
UPLOADS_PER_IP_PER_MINUTE = 60
TOPIC_CHOICES_PER_VISITOR_PER_MINUTE = 30
# IMP.setUser and IMP.setAttributes, together: a page calls each once per page view.
IDENTITY_CALLS_PER_VISITOR_PER_MINUTE = 60
IDENTITY_CALLS_PER_IP_PER_MINUTE = 240


class SessionStart(InputModel):
    public_key: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    visitor_token: Annotated[str, StringConstraints(max_length=512)] | None = None
    page_url: Annotated[str, StringConstraints(max_length=2000)] = ""
    embedding_origin: Annotated[str, StringConstraints(max_length=300)] = ""
    language: Annotated[str, StringConstraints(max_length=16)] = ""
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class WidgetResource(BaseModel):
    name: str
    topics: list[NamedRef]
    topic_choice_seconds: int
    look: WidgetLook = Field(default_factory=WidgetLook)
    # The calls the client may start once an employee has taken their request.
    calls: list[Literal["voice", "video"]] = Field(default_factory=list)


class WidgetHours(BaseModel):
    """Whether the team is at work now, and when it is back if not (None: not known)."""

    open: bool
    back_at: datetime | None = None


class WidgetSession(BaseModel):
    visitor_token: str
    client: NamedRef
    resource: WidgetResource
    request: VisitorRequestState | None
    preferred_topic_id: int | None
    blocked: bool
    hours: WidgetHours = WidgetHours(open=True)


class TopicChoice(InputModel):
    queue_id: int


class Conversation(BaseModel):
    request: VisitorRequestState | None
    messages: list[MessageRead]
    has_older: bool = Field(default=False)
    # The scores the client gave, by request (a question already answered shows no stars).
    ratings: dict[int, int] = Field(default_factory=dict)
    # How far the employees answering the client have read: their messages up to it show as
    # read.
    team_read_upto: int = 0


async def _session_payload(services: Services, visitor: Visitor, token: str) -> WidgetSession:
    async with services.db.read() as session:
        topics = await actions.topics_of(session, visitor.resource.id)
        open_request = await actions.open_request_of(session, visitor.client.id)
        state = await queries.visitor_state(session, open_request)
        schedule = await routing_queries.schedule_of(session, visitor.resource.id)
    now = utcnow()
    hours = WidgetHours(open=True)
    if schedule is not None and not schedule.is_open(now):
        hours = WidgetHours(open=False, back_at=schedule.back_at(now))
    return WidgetSession(
        visitor_token=token,
        client=NamedRef(id=visitor.client.id, name=visitor.client.display_name),
        resource=WidgetResource(
            name=visitor.resource.name,
            topics=[NamedRef(id=q.id, name=q.name) for q in topics],
            topic_choice_seconds=visitor.resource.topic_choice_seconds,
            look=widget_look_of(visitor.resource.widget_look),
            calls=[
                kind
                for kind, allowed in (
                    ("voice", visitor.resource.client_voice_calls),
                    ("video", visitor.resource.client_video_calls),
                )
                if allowed
            ],
        ),
        request=state,
        preferred_topic_id=visitor.client.preferred_queue_id,
        blocked=visitor.client.is_blocked,
        hours=hours,
    )


@router.post("/session", response_model=WidgetSession)
async def start_session(
    data: SessionStart, request: Request, services: Services = Depends(get_services)
) -> WidgetSession:
    await throttle(services, f"widget-session:{client_ip(request)}", SESSIONS_PER_IP_PER_MINUTE, 60)
    async with services.db.read() as session:
        resource = await session.scalar(
            select(Resource).where(Resource.public_key == data.public_key)
        )
    if resource is None or resource.deleted_at is not None or not resource.is_active:
        raise NotFound("This chat is not available.", code="chat_unavailable")
    # A website with no origins listed is embedded nowhere yet (the frame says the same).
    try:
        origin = normalise_origin(data.embedding_origin)
    except ValueError:
        origin = ""
    if origin not in resource.site_origins:
        raise Forbidden("This chat is not enabled for this website.", code="origin")
    # A revoked token still names its client here: blocking revokes a client's tokens, and once
    # an administrator unblocks them their widget carries on with their history.
    known = (
        await visitor_from_token(services, data.visitor_token, revoked_too=True)
        if data.visitor_token
        else None
    )
    if data.visitor_token and known is None:
        raise NotAuthenticated(
            "Your chat session is not valid; starting a new one.", code="visitor"
        )
    if known is not None and known.client.is_blocked:
        # No new token for a blocked client, only the notice the widget shows.
        raise Forbidden(actions.BLOCKED_NOTICE, code="blocked")
    if known is not None and (
        known.resource.id != resource.id or _no_longer_theirs(services, known, data.visitor_token)
    ):
        known = None
    address = client_ip(request)
    if known is None:
        # A new conversation: refused while the network it comes from is blocked.
        async with services.db.read() as session:
            refusing = await blocking_queries.address_block(session, resource.id, address)
        if refusing is not None:
            await blocking_actions.count_refusal(services, refusing.id)
            raise Forbidden(actions.BLOCKED_NOTICE, code="blocked")
    client = await client_actions.record_visit(
        services,
        address=address,
        resource_id=resource.id,
        client_id=known.client.id if known else None,
        environment={
            "page_url": data.page_url,
            "user_agent": request.headers.get("user-agent", "")[:400],
        },
        # The language the chat speaks: the website's, where it chose one for its chat.
        language=_chat_language(resource.widget_look, data.language),
        name=data.name,
    )
    visitor = Visitor(client, resource)
    return await _session_payload(services, visitor, visitor_token(services, client))


def _chat_language(stored_look: dict[str, Any], page_language: str) -> str:
    chosen = widget_look_of(stored_look).language
    return page_language[:8] if chosen == "auto" else chosen


def _no_longer_theirs(services: Services, known: Visitor, token: str | None) -> bool:
    """Whether a token names a client its holder may no longer come back to: one joined into
    the verified client it proved to be (the widget that proved it holds that client's token),
    or a verified client whose tokens were revoked (the site's identity secret changed: only a
    hash made with the new one brings the person back). Such a visitor starts anew."""
    if known.client.merged_into_id is not None:
        return True
    claims = read_token(services, token or "")
    return (
        known.client.verified_id is not None
        and claims is not None
        and claims.generation != known.client.token_generation
    )


class IdentityOutcome(BaseModel):
    verified: bool
    # The visitor is now the client the site vouched for (another browser or device of theirs
    # came first): the widget carries on with this session, that client's token and history.
    # None: the visitor stays the client they were.
    session: WidgetSession | None = None


class VisitorAttributesRead(BaseModel):
    attributes: dict[str, bool | int | float | str]


@router.post("/identity", response_model=IdentityOutcome)
async def identify(
    data: VisitorIdentity,
    request: Request,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> IdentityOutcome:
    """IMP.setUser from the site's page. With a valid hash the visitor becomes the site's
    verified client for that id, the same on every browser and device; without one, what the
    page said is kept as the visitor's own word and joins nothing."""
    await throttle_all(
        services,
        [
            (f"widget-identity:{visitor.client.id}", IDENTITY_CALLS_PER_VISITOR_PER_MINUTE, 60),
            (f"widget-identity-ip:{client_ip(request)}", IDENTITY_CALLS_PER_IP_PER_MINUTE, 60),
        ],
    )
    outcome = await identity.identify(services, visitor.client.id, data)
    if not outcome.switched:
        return IdentityOutcome(verified=outcome.verified)
    now = Visitor(outcome.client, visitor.resource)
    token = visitor_token(services, outcome.client)
    return IdentityOutcome(
        verified=outcome.verified, session=await _session_payload(services, now, token)
    )


@router.post("/attributes", response_model=VisitorAttributesRead)
async def set_attributes(
    data: VisitorAttributes,
    request: Request,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> VisitorAttributesRead:
    """IMP.setAttributes: facts the site's page gives about the visitor, shown to employees."""
    await throttle_all(
        services,
        [
            (f"widget-identity:{visitor.client.id}", IDENTITY_CALLS_PER_VISITOR_PER_MINUTE, 60),
            (f"widget-identity-ip:{client_ip(request)}", IDENTITY_CALLS_PER_IP_PER_MINUTE, 60),
        ],
    )
    attributes = await identity.set_attributes(services, visitor.client.id, data.attributes)
    return VisitorAttributesRead(attributes=attributes)


@router.get("/conversation", response_model=Conversation)
async def conversation(
    before_id: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=100),
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> Conversation:
    """The visitor's history across all their requests, newest page first."""
    async with services.db.read() as session:
        rooms = select(ClientRequest.room_id).where(ClientRequest.client_id == visitor.client.id)
        query = select(Message).where(Message.room_id.in_(rooms))
        if before_id is not None:
            query = query.where(Message.id < before_id)
        batch = list(await session.scalars(query.order_by(Message.id.desc()).limit(limit * 3)))
        visible = [
            actions.for_visitor(m)
            for m in await message_reads(session, list(reversed(batch)))
            if actions.visible_to_client(m)
        ][-limit:]
        state = await queries.visitor_state(
            session, await actions.open_request_of(session, visitor.client.id)
        )
        ratings = await rating_queries.scores_of_client(session, visitor.client.id)
        team_read = await reading.team_read_upto(session, visitor.client.id)
    return Conversation(
        request=state,
        messages=visible,
        has_older=len(batch) == limit * 3,
        ratings=ratings,
        team_read_upto=team_read,
    )


@router.post("/ratings", response_model=RatingOutcome)
async def rate(
    data: RatingCreate,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> RatingOutcome:
    """The client rates a closed request they were asked about: once; a second or late answer
    is answered with ``accepted: false`` and changes nothing."""
    return await rating_actions.rate(
        services, visitor.client.id, data.request_id, data.score, data.comment
    )


class OfflineMessage(InputModel):
    """The form a client fills in outside business hours."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]

    @model_validator(mode="after")
    def _reachable(self) -> OfflineMessage:
        if not self.email and not self.phone:
            raise PydanticCustomError(
                "contact_required", "Leave an e-mail address or a phone number"
            )
        return self

    def contacts(self) -> list[ContactWrite]:
        """Raises (a 422 naming the field) when one does not look like what it says."""
        given = [("email", self.email), ("phone", self.phone)]
        return [ContactWrite(kind=kind, value=value) for kind, value in given if value]


@router.post("/offline", response_model=MessageRead, status_code=201)
async def leave_offline_message(
    data: OfflineMessage,
    request: Request,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> MessageRead:
    """Outside business hours: the client's message with their name and how to reach them; it
    opens a request marked as written outside hours, waiting for the morning."""
    await throttle_all(
        services,
        [
            (f"widget-msg:{visitor.client.id}", MESSAGES_PER_VISITOR_PER_MINUTE, 60),
            (f"widget-msg-ip:{client_ip(request)}", MESSAGES_PER_IP_PER_MINUTE, 60),
        ],
    )
    try:
        contacts = data.contacts()
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    await client_actions.client_leaves_details(services, visitor.client.id, data.name, contacts)
    message, _ = await actions.client_sends(services, visitor.client.id, body=data.body)
    return message


@router.post("/messages", response_model=MessageRead, status_code=201)
async def send_message(
    data: MessageCreate,
    request: Request,
    response: Response,
    services: Services = Depends(get_services),
) -> MessageRead:
    return await _visitor_sends(services, request, data)


async def send_message_lean(call: LeanCall) -> Response:
    """``send_message`` on the lean route (core/lean_routes.py)."""
    message = await _visitor_sends(call.services, call.request, call.body(MessageCreate))
    return call.json(message, 201)


LEAN_ROUTES = [LeanRoute("POST", "/api/widget/messages", send_message_lean)]


async def _visitor_sends(services: Services, request: Request, data: MessageCreate) -> MessageRead:
    # The busiest widget request: the token is checked against the client and site rows the
    # send reads in its own transaction, not looked up beforehand as well.
    token = bearer_token(request)
    claims = read_token(services, token)
    if claims is None:
        raise NotAuthenticated(NOT_VALID, code="visitor")
    await throttle_all(
        services,
        [
            (f"widget-msg:{claims.client_id}", MESSAGES_PER_VISITOR_PER_MINUTE, 60),
            (f"widget-msg-ip:{client_ip(request)}", MESSAGES_PER_IP_PER_MINUTE, 60),
        ],
    )
    not_admitted = NotAuthenticated(NOT_VALID, code="visitor")
    try:
        message = await actions.visitor_sends(
            services,
            claims.client_id,
            body=data.body,
            attachment_ids=data.attachment_ids,
            client_message_id=data.client_message_id,
            admit=lambda client, resource: visitor_admitted(claims, client, resource),
            refusal=not_admitted,
        )
    except NotAuthenticated as exc:
        if exc is not not_admitted:
            raise
        # Rare (a forged, revoked or stale token): say why as every other widget request does,
        # a blocked client's notice included.
        raise await refuse_token(services, token) from None
    return actions.for_visitor(message)


@router.post("/topic", response_model=VisitorRequestState | None)
async def choose_topic(
    data: TopicChoice,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> VisitorRequestState | None:
    await throttle(
        services, f"widget-topic:{visitor.client.id}", TOPIC_CHOICES_PER_VISITOR_PER_MINUTE, 60
    )
    request = await actions.client_picks_topic(services, visitor.client.id, data.queue_id)
    async with services.db.read() as session:
        return await queries.visitor_state(session, request)


@router.post(
    "/files",
    response_model=AttachmentRead,
    status_code=201,
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
    max_body_size=UPLOAD_BODY_BYTES,
)
async def upload(
    request: Request,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> AttachmentRead:
    await throttle(
        services, f"widget-upload:{visitor.client.id}", UPLOADS_PER_VISITOR_PER_MINUTE, 60
    )
    await throttle(
        services, f"widget-upload-ip:{client_ip(request)}", UPLOADS_PER_IP_PER_MINUTE, 60
    )
    if visitor.client.is_blocked:
        raise Forbidden(actions.BLOCKED_NOTICE, code="blocked")
    async with uploaded_file(request, services) as file:
        return await save_upload(services, file, client_id=visitor.client.id)


@router.get("/files/{attachment_id}", response_class=Response)
async def download(
    attachment_id: int,
    request: Request,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> Response:
    """The token comes in the Authorization header like everywhere else (the widget fetches
    files and shows them from memory): in the address it would be written to access logs."""
    attachment = await _visitor_file(services, visitor, attachment_id)
    # Streamed even where downloads are redirected to storage: a script sending the token in a
    # header would carry it along to the storage's origin, which refuses a second credential.
    return await file_response(services, attachment, request, may_redirect=False)


@router.get("/files/{attachment_id}/thumbnail", response_class=Response)
async def download_thumbnail(
    attachment_id: int,
    request: Request,
    visitor: Visitor = Depends(current_visitor),
    services: Services = Depends(get_services),
) -> Response:
    attachment = await _visitor_file(services, visitor, attachment_id)
    return await file_response(services, attachment, request, may_redirect=False, thumbnail=True)


async def _visitor_file(services: Services, visitor: Visitor, attachment_id: int) -> Attachment:
    """A file the visitor may have: one they uploaded, or one of a message of their own
    request that they can see. Anything else is "not found", so ids reveal nothing."""
    async with services.db.read() as session:
        attachment = await session.get(Attachment, attachment_id)
        allowed = False
        if attachment is not None and attachment.message_id is None:
            allowed = attachment.uploader_client_id == visitor.client.id
        elif attachment is not None:
            message = await session.get(Message, attachment.message_id)
            owner = (
                await session.scalar(
                    select(ClientRequest.client_id).where(ClientRequest.room_id == message.room_id)
                )
                if message
                else None
            )
            # A file of an employees' note is no more the client's than the note itself.
            allowed = (
                message is not None
                and owner == visitor.client.id
                and actions.visible_to_client(message)
            )
    if attachment is None or not allowed:
        raise NotFound("File not found.", code="file_not_found")
    return attachment


def _socket_token(websocket: WebSocket) -> str | None:
    """The token the widget offers as the second subprotocol after ``imp.visitor``."""
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    if len(offered) != 2 or offered[0] != SOCKET_PROTOCOL:
        return None
    return offered[1]


async def visitor_socket(websocket: WebSocket, services: Services) -> None:
    """The widget's socket (``/ws/widget``), authenticated before it is accepted by the visitor
    token offered as a subprotocol (``new WebSocket(url, ['imp.visitor', token])``)."""
    visitor = await visitor_from_token(services, _socket_token(websocket))
    if visitor is None:
        # Accepted without a subprotocol only to say why before closing.
        await websocket.accept()
        await websocket.send_json({"type": "closed", "reason": "not_authenticated"})
        await websocket.close(4401, "not authenticated")
        return
    await websocket.accept(subprotocol=SOCKET_PROTOCOL)
    connection = Connection(
        websocket=websocket, recipient=visitor_key(visitor.client.id), client_id=visitor.client.id
    )
    await services.gateway.serve(connection)
