"""WhatsApp: connecting a number (Administration), Meta's webhook, and what the workspace needs
past the 24-hour window (the window itself, the approved templates, sending one)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import secrets
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from impserver.channels.whatsapp.adapter import (
    TEMPLATE_PREFIX,
    WhatsAppChannel,
    render,
    window,
)
from impserver.channels.whatsapp.client import signature
from impserver.channels.whatsapp.models import WhatsAppTemplateSend
from impserver.core.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from impserver.core.http import LARGEST_ID, InputModel, api_router
from impserver.core.security import secrets_match
from impserver.domains.accounts.auth import current_admin, current_employee
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client
from impserver.domains.requests import actions as request_actions
from impserver.domains.resources import actions as resource_actions
from impserver.domains.resources.models import KIND_WHATSAPP, Resource
from impserver.domains.resources.schemas import MessengerResourceCreate, ResourceRead
from impserver.domains.rooms.schemas import ClientMessageId, MessageRead
from impserver.services import Services, get_services

log = logging.getLogger(__name__)

router = api_router("/api/channels/whatsapp", "channels")
admin_router = api_router("/api/admin", "administration")

GraphId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,30}$")]
# Sent in an Authorization header: printable ASCII only.
Secret = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=1000, pattern=r"^[!-~]+$"),
]


class WhatsAppResourceCreate(MessengerResourceCreate):
    phone_number_id: GraphId
    business_account_id: GraphId
    access_token: Secret
    app_secret: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9a-fA-F]{16,128}$")
    ]
    # A phrase of the administrator's choice, given to Meta with the webhook's address.
    verify_token: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^\S+$"),
    ]


@admin_router.post("/resources/whatsapp", response_model=ResourceRead, status_code=201)
async def connect_number(
    data: WhatsAppResourceCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> ResourceRead:
    """Connect a WhatsApp business number of the Cloud API (checked with Meta first)."""
    return await resource_actions.connect_messenger(services, admin, KIND_WHATSAPP, data)


def _channel(services: Services) -> WhatsAppChannel:
    channel = services.messengers[KIND_WHATSAPP]
    assert isinstance(channel, WhatsAppChannel)
    return channel


async def _number(services: Services, resource_id: int) -> Resource | None:
    if not 0 < resource_id <= LARGEST_ID:
        return None
    async with services.db.read() as session:
        resource = await session.get(Resource, resource_id)
    return resource if resource is not None and resource.kind == KIND_WHATSAPP else None


# -- Meta's webhook --------------------------------------------------------------------------


@router.get(
    "/{resource_id}/webhook",
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Echo"}
    },
    response_model=None,
)
async def verify_webhook(
    resource_id: int,
    mode: str | None = Query(default=None, alias="hub.mode", max_length=100),
    token: str | None = Query(default=None, alias="hub.verify_token", max_length=1000),
    challenge: str | None = Query(default=None, alias="hub.challenge", max_length=1000),
    services: Services = Depends(get_services),
) -> PlainTextResponse:
    """Meta's check of the address: the challenge echoed when the verify token matches."""
    resource = await _number(services, resource_id)
    expected = str(resource.channel_config.get("verify_token", "")) if resource else ""
    if mode != "subscribe" or not secrets_match(token, expected) or challenge is None:
        log.warning("WhatsApp webhook verification refused for resource %s", resource_id)
        raise Forbidden("Wrong verify token.", code="whatsapp_wrong_verify_token")
    return PlainTextResponse(challenge)


NOTIFICATION_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.post("/{resource_id}/webhook", openapi_extra={"requestBody": NOTIFICATION_BODY})
async def receive(
    resource_id: int,
    request: Request,
    signed: str | None = Header(default=None, alias="X-Hub-Signature-256"),
    services: Services = Depends(get_services),
) -> dict[str, bool]:
    """Meta's notifications: every one signed with the app secret (HMAC-SHA256 of the body)."""
    body = await request.body()
    sender = request.client.host if request.client else "?"
    if not signed:
        log.warning("Unsigned WhatsApp notification for resource %s from %s", resource_id, sender)
        raise NotAuthenticated("The notification is not signed.", code="whatsapp_unsigned")
    resource = await _number(services, resource_id)
    secret = str(resource.channel_config.get("app_secret", "")) if resource else ""
    # Until the signature matches, every refusal is the same and the body is not parsed.
    if resource is None or not secrets_match(signed, signature(body, secret)):
        log.warning(
            "WhatsApp notification with a wrong signature for resource %s from %s",
            resource_id,
            sender,
        )
        raise Forbidden("Wrong signature.", code="whatsapp_bad_signature")
    try:
        notification: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "Not a WhatsApp notification.", code="whatsapp_bad_notification"
        ) from exc
    if (
        not isinstance(notification, dict)
        or notification.get("object") != "whatsapp_business_account"
    ):
        raise InvalidInput("Not a WhatsApp notification.", code="whatsapp_bad_notification")
    if resource.deleted_at is not None or not resource.is_active:
        raise NotFound("No such number.", code="bot_not_found")
    try:
        await _channel(services).handle(resource, notification)
    except (SQLAlchemyError, httpx.HTTPError):
        # Nothing may be lost: a refusal makes Meta send the notification again (the same
        # message is one message), and the log says which one failed and why.
        log.exception(
            "WhatsApp notification for resource %s could not be stored; Meta will send it again",
            resource.id,
        )
        return JSONResponse(  # type: ignore[return-value]
            {"detail": "The notification could not be stored; send it again.", "code": "retry"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return {"ok": True}


# -- the workspace: the 24-hour window and templates -------------------------------------------


class TemplateRead(BaseModel):
    name: str
    language: str
    category: str
    # The body's words, with {{1}}, {{2}}, … where the parameters go.
    body: str
    parameters: int


class WindowRead(BaseModel):
    """Whether the client can be written to freely; past that, the templates to choose from."""

    open: bool
    closes_at: datetime | None
    templates: list[TemplateRead]
    # A code the UI translates when the templates could not be read from WhatsApp.
    templates_error: str | None = None


TemplateValue = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
]


class TemplateSend(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)]
    parameters: list[TemplateValue] = Field(default_factory=list, max_length=20)
    client_message_id: ClientMessageId | None = None


async def _request_number(
    services: Services, employee: Employee, request_id: int
) -> tuple[Resource, Client]:
    if not 0 < request_id <= LARGEST_ID:
        raise NotFound("Request not found.", code="request_not_found")
    async with services.db.read() as session:
        request = await request_actions.visible_request(session, employee.id, request_id)
        resource = await session.get(Resource, request.resource_id)
        client = await session.get(Client, request.client_id)
    assert resource is not None and client is not None
    if resource.kind != KIND_WHATSAPP:
        raise InvalidInput("This request is not from WhatsApp.", code="not_whatsapp")
    return resource, client


@router.get("/requests/{request_id}/window", response_model=WindowRead)
async def read_window(
    request_id: int,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> WindowRead:
    resource, client = await _request_number(services, employee, request_id)
    async with services.db.read() as session:
        is_open, closes_at = await window(session, client)
    templates: list[TemplateRead] = []
    error = None
    if not is_open:
        try:
            found = await _channel(services).templates(resource)
        except InvalidInput as exc:
            error = exc.code
        else:
            templates = [TemplateRead(**t.__dict__) for t in found]
    return WindowRead(open=is_open, closes_at=closes_at, templates=templates, templates_error=error)


@router.post("/requests/{request_id}/templates", response_model=MessageRead, status_code=201)
async def send_template(
    request_id: int,
    data: TemplateSend,
    employee: Employee = Depends(current_employee),
    services: Services = Depends(get_services),
) -> MessageRead:
    """An approved template to the client, as the employee's message: what WhatsApp allows
    past the 24-hour window."""
    resource, _ = await _request_number(services, employee, request_id)
    template = next(
        (
            t
            for t in await _channel(services).templates(resource)
            if (t.name, t.language) == (data.name, data.language)
        ),
        None,
    )
    if template is None:
        raise InvalidInput("No such approved template.", code="whatsapp_template_not_found")
    if len(data.parameters) != template.parameters:
        raise InvalidInput(
            f"The template takes {template.parameters} parameters.",
            code="whatsapp_template_parameters",
            params={"count": template.parameters},
        )
    # The message's id names the template for the delivery worker; a retry with the same
    # client id is the same message.
    seed = f"{employee.id}:{data.client_message_id or ''}:{request_id}"
    key = TEMPLATE_PREFIX + (
        hashlib.sha256(seed.encode()).hexdigest()[:40]
        if data.client_message_id
        else secrets.token_hex(20)
    )
    with contextlib.suppress(IntegrityError):
        async with services.db.transaction() as uow:
            uow.session.add(
                WhatsAppTemplateSend(
                    resource_id=resource.id,
                    client_message_id=key,
                    name=template.name,
                    language=template.language,
                    parameters=data.parameters,
                )
            )
    message, _ = await request_actions.employee_replies(
        services,
        employee,
        request_id,
        body=render(template, data.parameters),
        attachment_ids=[],
        client_message_id=key,
    )
    return message
