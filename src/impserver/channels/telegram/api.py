"""Telegram webhooks: one path per bot, each update checked against the bot's secret token."""

from __future__ import annotations

import logging

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from impserver.channels.telegram.channel import TelegramChannel, webhook_secret_matches
from impserver.core.errors import Forbidden, InvalidInput, NotFound
from impserver.core.http import LARGEST_ID, api_router
from impserver.domains.resources.models import KIND_TELEGRAM, Resource
from impserver.services import Services, get_services

log = logging.getLogger(__name__)

router = api_router("/api/channels/telegram", "channels")

UPDATE_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.post("/{resource_id}/webhook", openapi_extra={"requestBody": UPDATE_BODY})
async def webhook(
    resource_id: int,
    request: Request,
    secret: str | None = Header(default=None, alias="X-Telegram-Bot-Api-Secret-Token"),
    services: Services = Depends(get_services),
) -> dict[str, bool]:
    # Until the secret matches, every refusal is the same and the body is not even read: a
    # caller without it learns neither which bots exist nor how their updates are parsed.
    resource = None
    if 0 < resource_id <= LARGEST_ID:
        async with services.db.read() as session:
            resource = await session.get(Resource, resource_id)
    if (
        resource is None
        or resource.kind != KIND_TELEGRAM
        or not webhook_secret_matches(resource, secret)
    ):
        raise Forbidden("Wrong secret token.", code="telegram_wrong_secret")
    if resource.deleted_at is not None:
        raise NotFound("No such bot.", code="bot_not_found")
    channel = services.messengers[KIND_TELEGRAM]
    assert isinstance(channel, TelegramChannel)
    adapter = await channel.adapter()
    try:
        parsed = adapter.parse_update(await request.body())
    except ValidationError as exc:
        raise InvalidInput("Not a Telegram update.", code="telegram_bad_update") from exc
    try:
        await adapter.handle(resource, parsed)
    except SQLAlchemyError:
        # Nothing of the update may be lost: a refusal makes Telegram send it again (the same
        # update is one message, see the adapter), and the log says which one failed and why.
        log.exception(
            "Telegram update %s of resource %s could not be stored; Telegram will send it again",
            parsed.update_id,
            resource.id,
        )
        return JSONResponse(  # type: ignore[return-value]
            {"detail": "The update could not be stored; send it again.", "code": "retry"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return {"ok": True}
