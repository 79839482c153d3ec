"""The Telegram channel as the rest of IMP holds it: the adapter itself is loaded the first time
a bot needs it. aiogram builds its Bot API types when imported, seconds of CPU that every
server process (and every worker of one) would otherwise pay at start, bots or not; loading it
in a thread keeps the event loop serving meanwhile."""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any

from impserver.channels.base import ConnectedAccount, OutgoingFile
from impserver.channels.receiving import active_resources
from impserver.core.errors import InvalidInput
from impserver.core.security import new_token, secrets_match
from impserver.domains.clients.models import Client
from impserver.domains.resources.models import KIND_TELEGRAM, Resource
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services

if TYPE_CHECKING:
    from impserver.channels.telegram.adapter import TelegramAdapter


def webhook_secret_matches(resource: Resource, sent: str | None) -> bool:
    expected = str(resource.channel_config.get("webhook_secret", ""))
    return secrets_match(sent, expected)


class TelegramChannel:
    kind = KIND_TELEGRAM

    def __init__(self, services: Services) -> None:
        self.services = services
        self._adapter: TelegramAdapter | None = None
        self._loading = asyncio.Lock()

    async def adapter(self) -> TelegramAdapter:
        if self._adapter is None:
            async with self._loading:
                if self._adapter is None:
                    module = await asyncio.to_thread(
                        importlib.import_module, "impserver.channels.telegram.adapter"
                    )
                    self._adapter = module.TelegramAdapter(self.services)
        return self._adapter

    async def start(self) -> None:
        await self.refresh()

    async def refresh(self) -> None:
        if self._adapter is None:
            async with self.services.db.read() as session:
                if not await active_resources(session, KIND_TELEGRAM):
                    return
        await (await self.adapter()).refresh()

    async def stop(self) -> None:
        if self._adapter is not None:
            await self._adapter.stop()

    async def send(
        self,
        resource: Resource,
        client: Client,
        message: MessageRead,
        files: list[OutgoingFile],
    ) -> None:
        await (await self.adapter()).send(resource, client, message, files)

    async def check_token(self, token: str) -> dict[str, Any]:
        return await (await self.adapter()).check_token(token)

    async def connect(self, credentials: dict[str, Any]) -> ConnectedAccount:
        token = credentials.get("token")
        if not isinstance(token, str):
            raise InvalidInput("A bot token is needed.", code="telegram_token_rejected")
        bot = await self.check_token(token)
        return ConnectedAccount(
            public_key=f"tg{bot['id']}",
            name=bot["name"],
            handle=bot["username"],
            config={"token": token, "bot_name": bot["name"], "webhook_secret": new_token(24)},
        )
