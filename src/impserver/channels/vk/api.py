"""VK: connecting a community (Administration) and its Callback API address."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import Field, StringConstraints
from sqlalchemy.exc import SQLAlchemyError

from impserver.channels.vk.adapter import VkChannel
from impserver.core.errors import Forbidden, InvalidInput, NotFound
from impserver.core.http import LARGEST_ID, api_router
from impserver.core.security import secrets_match
from impserver.domains.accounts.auth import current_admin
from impserver.domains.accounts.models import Employee
from impserver.domains.resources import actions as resource_actions
from impserver.domains.resources.models import KIND_VK, Resource
from impserver.domains.resources.schemas import MessengerResourceCreate, ResourceRead
from impserver.services import Services, get_services

log = logging.getLogger(__name__)

router = api_router("/api/channels/vk", "channels")
admin_router = api_router("/api/admin", "administration")


class VkResourceCreate(MessengerResourceCreate):
    # A community token (Manage community → API usage → Access tokens).
    token: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=20, max_length=500, pattern=r"^[A-Za-z0-9._-]+$"
        ),
    ]
    # The community's id, the digits of "club123456".
    group_id: Annotated[int, Field(ge=1, le=10**12)]


@admin_router.post("/resources/vk", response_model=ResourceRead, status_code=201)
async def connect_community(
    data: VkResourceCreate,
    admin: Employee = Depends(current_admin),
    services: Services = Depends(get_services),
) -> ResourceRead:
    """Connect a VK community by a community token and its id (checked with VK first)."""
    return await resource_actions.connect_messenger(services, admin, KIND_VK, data)


EVENT_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}
WRONG_SECRET = "Wrong secret key."


# VK reads the answer as text: "ok", or the confirmation code.
TEXT_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Taken"}
}


@router.post(
    "/{resource_id}/callback",
    openapi_extra={"requestBody": EVENT_BODY},
    responses=TEXT_ANSWER,
    response_model=None,
)
async def callback(
    resource_id: int, request: Request, services: Services = Depends(get_services)
) -> PlainTextResponse:
    """The community's Callback API server: VK's confirmation request is answered with the
    community's code; every other event must carry the secret key, and is answered "ok"."""
    try:
        event: Any = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("Not a VK event.", code="vk_bad_event") from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise InvalidInput("Not a VK event.", code="vk_bad_event")
    resource = None
    if 0 < resource_id <= LARGEST_ID:
        async with services.db.read() as session:
            resource = await session.get(Resource, resource_id)
    # Until the secret matches, every refusal is the same: a caller without it learns
    # nothing of which communities exist.
    if resource is None or resource.kind != KIND_VK:
        raise Forbidden(WRONG_SECRET, code="vk_wrong_secret")
    config = resource.channel_config
    secret = event.get("secret")
    same_group = event.get("group_id") == config.get("group_id")
    if event["type"] == "confirmation" and same_group and secret in (None, config["secret"]):
        # Proves to VK that this address is the community's; the code itself is no secret.
        return PlainTextResponse(str(config["confirmation_code"]))
    if not same_group or not secrets_match(
        secret if isinstance(secret, str) else None, str(config["secret"])
    ):
        log.warning(
            "VK event refused for resource %s: wrong secret or community (from %s)",
            resource_id,
            request.client.host if request.client else "?",
        )
        raise Forbidden(WRONG_SECRET, code="vk_wrong_secret")
    if resource.deleted_at is not None or not resource.is_active:
        raise NotFound("No such community.", code="bot_not_found")
    channel = services.messengers[KIND_VK]
    assert isinstance(channel, VkChannel)
    try:
        await channel.handle(resource, event)
    except (SQLAlchemyError, httpx.HTTPError):
        # Nothing may be lost: an answer other than "ok" makes VK send the event again (the
        # same message is one message), and the log says which one failed and why.
        log.exception(
            "VK event %s of resource %s could not be stored; VK will send it again",
            event.get("event_id"),
            resource.id,
        )
        return PlainTextResponse(
            "The event could not be stored; send it again.",
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return PlainTextResponse("ok")
