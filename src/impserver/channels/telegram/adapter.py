"""Telegram: one bot per resource. Inbound updates become the same actions the widget calls;
outbound messages are sent by the delivery worker through ``send``."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
    Update,
)
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from impserver.channels import conversation
from impserver.channels.base import DeliveryFailed, OutgoingFile, RetryLater
from impserver.channels.conversation import IncomingFile, Topic
from impserver.channels.receiving import Backoff, Receivers, still_receiving
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients.models import Client
from impserver.domains.resources.models import KIND_TELEGRAM, Resource
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
POLL_TIMEOUT = 25

# The score buttons under the rating question: "rate:<request id>:<1..5>".
_SCORE = re.compile(r"rate:(?P<request>\d{1,12}):(?P<score>[1-5])")


def _score_buttons(request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=str(n), callback_data=f"rate:{request_id}:{n}")
                for n in range(1, 6)
            ]
        ]
    )


def _answered_message(message: MessageRead) -> ReplyParameters | None:
    answered = conversation.answered_message_id(message)
    if answered is None:
        return None
    return ReplyParameters(message_id=int(answered), allow_sending_without_reply=True)


class TelegramChat:
    """The private chat of one Telegram user with the bot."""

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id

    async def say(self, text: str) -> None:
        await self.bot.send_message(self.chat_id, text)

    async def offer_topics(self, prompt: str, topics: list[Topic]) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=t.name, callback_data=f"topic:{t.id}")] for t in topics
            ]
        )
        await self.bot.send_message(self.chat_id, prompt, reply_markup=keyboard)


class StoredInputFile(InputFile):
    """A file for the Bot API read from IMP's storage as it is uploaded, wherever it is kept."""

    def __init__(self, file: OutgoingFile) -> None:
        super().__init__(filename=file.attachment.file_name)
        self.file = file

    async def read(self, bot: Bot) -> AsyncGenerator[bytes, None]:
        async for chunk in self.file.chunks():
            yield chunk


class TelegramAdapter:
    kind = KIND_TELEGRAM

    def __init__(self, services: Services) -> None:
        self.services = services
        self._bots: dict[str, Bot] = {}
        self.receivers = Receivers(
            services,
            kind=KIND_TELEGRAM,
            mode=lambda: services.settings.telegram_mode,
            webhook_path="webhook",
            what="Telegram bot",
            errors=(TelegramAPIError, TelegramNetworkError),
        )

    # -- the Bot API ---------------------------------------------------------------------

    def bot(self, token: str) -> Bot:
        if token not in self._bots:
            server = TelegramAPIServer.from_base(self.services.settings.telegram_api_url)
            self._bots[token] = Bot(token=token, session=AiohttpSession(api=server))
        return self._bots[token]

    # -- outbound --------------------------------------------------------------------------

    async def send(
        self,
        resource: Resource,
        client: Client,
        message: MessageRead,
        files: list[OutgoingFile],
    ) -> None:
        bot = self.bot(resource.channel_config["token"])
        chat_id = int(client.external_id.removeprefix("tg:"))
        try:
            if (request_id := conversation.asks_for_rating(message)) is not None:
                await bot.send_message(
                    chat_id, message.body, reply_markup=_score_buttons(request_id)
                )
                return
            text = conversation.outgoing_text(message)
            # An answer to one of the client's messages goes out as a reply to it there (the
            # first piece does; the rest follow it). Sent anyway if the client deleted it.
            answered = _answered_message(message)
            for file in files:
                media = StoredInputFile(file)
                if file.attachment.is_image:
                    await bot.send_photo(chat_id, media, reply_parameters=answered)
                else:
                    await bot.send_document(chat_id, media, reply_parameters=answered)
                answered = None
            for part in conversation.split_text(text, TEXT_LIMIT):
                await bot.send_message(chat_id, part, reply_parameters=answered)
                answered = None
        except TelegramRetryAfter as exc:
            raise RetryLater(float(exc.retry_after), str(exc)) from exc
        except TelegramNetworkError as exc:
            raise RetryLater(5.0, str(exc)) from exc
        except (TelegramForbiddenError, TelegramUnauthorizedError) as exc:
            raise DeliveryFailed(str(exc)) from exc
        except TelegramAPIError as exc:
            raise DeliveryFailed(str(exc)) from exc

    # -- inbound ---------------------------------------------------------------------------

    async def handle(self, resource: Resource, update: Update) -> None:
        bot = self.bot(resource.channel_config["token"])
        if update.callback_query is not None:
            await self._on_button(resource, bot, update)
            return
        message = update.message
        if message is None or message.from_user is None or message.chat.type != "private":
            return
        user = message.from_user
        client = await client_actions.record_messenger_client(
            self.services,
            resource_id=resource.id,
            external_id=f"tg:{user.id}",
            display_name=" ".join(p for p in (user.first_name, user.last_name) if p),
            language=user.language_code or "",
            handle=("telegram", f"@{user.username}") if user.username else None,
        )
        chat = TelegramChat(bot, message.chat.id)
        if message.text and message.text.strip() == "/start":
            await conversation.client_starts(self.services, resource, client, chat)
            return
        body, files = await self._content(bot, message, client)
        await conversation.client_writes(
            self.services,
            resource,
            client,
            chat,
            body=body,
            files=files,
            # Telegram re-sends an update we did not confirm: the same update is one message.
            key=conversation.message_key("tg", str(update.update_id)),
            channel_message_id=str(message.message_id),
            # A caption, or what stands for a sticker, is not a comment on a rating.
            may_be_comment=message.text is not None,
        )

    async def _content(
        self, bot: Bot, message: Any, client: Client
    ) -> tuple[str, list[IncomingFile]]:
        say = conversation.words(client.language)
        body = message.text or message.caption or ""
        file_id, name, content_type = None, "", "application/octet-stream"
        if message.photo:
            file_id, name, content_type = message.photo[-1].file_id, "photo.jpg", "image/jpeg"
        elif message.document:
            doc = message.document
            file_id, name = doc.file_id, doc.file_name or "document"
            content_type = doc.mime_type or content_type
        elif message.voice:
            file_id, name, content_type = message.voice.file_id, "voice.ogg", "audio/ogg"
            body = body or say["voice"]
        elif message.sticker:
            emoji = message.sticker.emoji
            body = say["sticker_emoji"].format(emoji=emoji) if emoji else say["sticker"]
        elif not body:
            body = say["unsupported"]
        if file_id is None:
            return body, []
        data = await bot.download(file_id)
        assert data is not None
        return body, [IncomingFile(name, content_type, data.read())]

    async def _on_button(self, resource: Resource, bot: Bot, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        await bot.answer_callback_query(query.id)
        data = query.data or ""
        score = _SCORE.fullmatch(data)
        if not score and (not data.startswith("topic:") or not data[6:].isdigit()):
            return
        async with self.services.db.read() as session:
            client = await session.scalar(
                select(Client)
                .where(Client.resource_id == resource.id)
                .where(Client.external_id == f"tg:{query.from_user.id}")
            )
        if client is None:
            return
        chat = TelegramChat(bot, query.from_user.id)
        if score:
            await conversation.client_rates(
                self.services, client, chat, int(score["request"]), int(score["score"])
            )
            return
        await conversation.client_picks_topic(self.services, resource, client, chat, int(data[6:]))

    @staticmethod
    def parse_update(body: bytes) -> Update:
        """A webhook's body as a Telegram update (pydantic's ValidationError if it is not)."""
        return Update.model_validate_json(body)

    # -- running the bots --------------------------------------------------------------------

    async def start(self) -> None:
        await self.refresh()

    async def refresh(self) -> None:
        """Start receiving for every active bot, stop it for removed or disabled ones."""
        await self.receivers.refresh(
            use_webhook=self._use_webhook, use_polling=self._use_polling, poll=self._poll
        )

    async def _use_webhook(self, resource: Resource, url: str) -> None:
        # Set on every refresh: Telegram keeps one webhook a bot, whoever set it last.
        bot = self.bot(resource.channel_config["token"])
        await bot.set_webhook(url, secret_token=resource.channel_config["webhook_secret"])

    async def _use_polling(self, resource: Resource) -> None:
        # Telegram gives no updates to a bot with a webhook.
        await self.bot(resource.channel_config["token"]).delete_webhook()

    async def _poll(self, resource_id: int) -> None:
        offset: int | None = None
        backoff = Backoff()
        while True:
            resource = await still_receiving(self.services, resource_id)
            if resource is None:
                return
            bot = self.bot(resource.channel_config["token"])
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, request_timeout=POLL_TIMEOUT + 10
                )
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except Exception as exc:
                log.warning("Telegram polling of resource %s failed: %s", resource_id, exc)
                await backoff.wait()
                continue
            for update in updates:
                try:
                    await self.handle(resource, update)
                except (SQLAlchemyError, OSError):
                    # The database failed, not the update: keep the offset so that the next poll
                    # gets it again, as a webhook refusal makes Telegram send it again.
                    log.exception(
                        "Telegram update %s of resource %s could not be stored; trying again",
                        update.update_id,
                        resource_id,
                    )
                    await backoff.wait()
                    break
                except Exception:
                    log.exception(
                        "Telegram update %s of resource %s failed", update.update_id, resource_id
                    )
                offset = update.update_id + 1

    async def stop(self) -> None:
        await self.receivers.stop()
        for bot in self._bots.values():
            await bot.session.close()
        self._bots.clear()
