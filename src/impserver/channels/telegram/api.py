"""Telegram webhooks: one path per bot, each update checked against the bot's secret token."""

from __future__ import annotations

from typing import Any

from aiogram.types import Update
from fastapi import APIRouter, Body, Depends, Header
from pydantic import ValidationError

from impserver.core.errors import Forbidden, InvalidInput, NotFound
from impserver.domains.resources.models import KIND_TELEGRAM, Resource
from impserver.services import Services, get_services

router = APIRouter(prefix="/api/channels/telegram", tags=["channels"])


@router.post("/{resource_id}/webhook")
async def webhook(
    resource_id: int,
    update: dict[str, Any] = Body(...),
    secret: str | None = Header(default=None, alias="X-Telegram-Bot-Api-Secret-Token"),
    services: Services = Depends(get_services),
) -> dict[str, bool]:
    async with services.db.read() as session:
        resource = await session.get(Resource, resource_id)
    if resource is None or resource.kind != KIND_TELEGRAM or resource.deleted_at is not None:
        raise NotFound("No such bot.")
    adapter = services.messengers[KIND_TELEGRAM]
    if not adapter.webhook_secret_matches(resource, secret):  # type: ignore[attr-defined]
        raise Forbidden("Wrong secret token.")
    try:
        parsed = Update.model_validate(update)
    except ValidationError as exc:
        raise InvalidInput("Not a Telegram update.") from exc
    await adapter.handle(resource, parsed)  # type: ignore[attr-defined]
    return {"ok": True}
