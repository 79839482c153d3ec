"""The Telegram channel as the rest of IMP holds it: the adapter itself is loaded the first time
a bot needs it. aiogram builds its Bot API types when imported, seconds of CPU that every
server process (and every worker of one) would otherwise pay at start, bots or not; loading it
in a thread keeps the event loop serving meanwhile. Checking a token needs no aiogram (one
plain getMe), and a bot's start after its resource changed goes on in the background, so the
administrator who connects the first bot is answered at once."""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import TYPE_CHECKING, Any

import httpx

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

log = logging.getLogger(__name__)
# How long Telegram may take to say who a bot is.
TOKEN_CHECK_SECONDS = 15


def webhook_secret_matches(resource: Resource, sent: str | None) -> bool:
    expected = str(resource.channel_config.get("webhook_secret", ""))
    return secrets_match(sent, expected)


class TelegramChannel:
    kind = KIND_TELEGRAM

    def __init__(self, services: Services) -> None:
        self.services = services
        self._adapter: TelegramAdapter | None = None
        self._loading = asyncio.Lock()
        self._first_start: asyncio.Task[None] | None = None

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
        if await self._has_bots():
            await (await self.adapter()).refresh()

    async def refresh(self) -> None:
        if self._adapter is not None:
            await self._adapter.refresh()
        elif (self._first_start is None or self._first_start.done()) and await self._has_bots():
            # The first bot: aiogram loads (and the bot starts) without holding up the caller.
            self._first_start = asyncio.create_task(self._start_first_bot())

    async def _start_first_bot(self) -> None:
        try:
            await (await self.adapter()).refresh()
        except Exception:
            log.exception("telegram bots could not be started")

    async def _has_bots(self) -> bool:
        async with self.services.db.read() as session:
            return bool(await active_resources(session, KIND_TELEGRAM))

    async def stop(self) -> None:
        if self._first_start is not None:
            await asyncio.gather(self._first_start, return_exceptions=True)
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
        """Ask Telegram who the bot is (getMe); a bad token is a readable error. The token's
        form was checked at the edge (digits, a colon, letters), so it is safe in the path."""
        url = f"{self.services.settings.telegram_api_url.rstrip('/')}/bot{token}/getMe"
        try:
            async with httpx.AsyncClient(timeout=TOKEN_CHECK_SECONDS) as http:
                response = await http.post(url)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise InvalidInput(
                f"Telegram could not be reached to check the token: {exc}",
                code="telegram_unreachable",
            ) from exc
        if response.status_code in (401, 404):
            raise InvalidInput(
                "Telegram did not accept this bot token.", code="telegram_token_rejected"
            )
        me = answer.get("result") if isinstance(answer, dict) and answer.get("ok") else None
        if not isinstance(me, dict) or "id" not in me:
            said = answer.get("description") if isinstance(answer, dict) else None
            raise InvalidInput(
                f"Telegram could not be reached to check the token: {said or response.status_code}",
                code="telegram_unreachable",
            )
        return {
            "id": me["id"],
            "username": me.get("username") or "",
            "name": me.get("first_name", ""),
        }

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
