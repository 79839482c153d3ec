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
from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers

from impserver.channels.base import DeliveryFailed, OutgoingFile, RetryLater
from impserver.channels.receiving import Backoff, Receivers, still_receiving
from impserver.core.errors import DomainError, Forbidden, InvalidInput
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients.models import Client
from impserver.domains.ratings import actions as rating_actions
from impserver.domains.ratings import questions as rating_questions
from impserver.domains.requests import actions as request_actions
from impserver.domains.requests.models import STATUS_CHOOSING
from impserver.domains.resources.models import KIND_TELEGRAM, Resource
from impserver.domains.rooms.messaging import save_upload
from impserver.domains.rooms.schemas import MessageRead
from impserver.domains.rooms.thumbnails import PICTURE_TOO_LARGE
from impserver.services import Services

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
POLL_TIMEOUT = 25

WORDS = {
    "ru": {
        "greeting": "Здравствуйте! Напишите ваш вопрос — сотрудник ответит здесь же.",
        "choose": "Выберите тему обращения:",
        "chosen": "Тема выбрана: {name}",
        "blocked": "К сожалению, вы больше не можете писать в этот чат.",
        "sticker": "[стикер {emoji}]",
        "voice": "[голосовое сообщение]",
        "unsupported": "[сообщение, которое нельзя показать]",
    },
    "en": {
        "greeting": "Hello! Write your question and an employee will answer right here.",
        "choose": "Choose a topic:",
        "chosen": "Topic chosen: {name}",
        "blocked": "Sorry, you can no longer send messages in this chat.",
        "sticker": "[sticker {emoji}]",
        "voice": "[voice message]",
        "unsupported": "[a message that cannot be shown]",
    },
}


def words(language: str | None) -> dict[str, str]:
    return WORDS["ru" if (language or "").startswith("ru") else "en"]


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Telegram refuses long texts: cut at line or word ends where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    if text:
        parts.append(text)
    return parts


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
    quote = message.reply_to
    if quote is None or quote.author.kind != "client" or not quote.channel_message_id:
        return None
    return ReplyParameters(
        message_id=int(quote.channel_message_id), allow_sending_without_reply=True
    )


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

    async def check_token(self, token: str) -> dict[str, Any]:
        """Ask Telegram who the bot is; a bad token is a readable error."""
        probe = Bot(
            token=token,
            session=AiohttpSession(
                api=TelegramAPIServer.from_base(self.services.settings.telegram_api_url)
            ),
        )
        try:
            me = await probe.get_me()
        except TelegramUnauthorizedError as exc:
            raise InvalidInput(
                "Telegram did not accept this bot token.", code="telegram_token_rejected"
            ) from exc
        except (TelegramAPIError, TelegramNetworkError) as exc:
            raise InvalidInput(
                f"Telegram could not be reached to check the token: {exc}",
                code="telegram_unreachable",
            ) from exc
        finally:
            await probe.session.close()
        return {"id": me.id, "username": me.username or "", "name": me.first_name}

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
            if message.meta.get("transition") == rating_actions.TRANSITION_ASKED:
                await bot.send_message(
                    chat_id, message.body, reply_markup=_score_buttons(message.meta["request_id"])
                )
                return
            text = message.body
            if message.author.kind == "employee" and message.author.name and message.kind == "text":
                text = f"{message.author.name}:\n{text}" if text else message.author.name
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
            for part in split_text(text):
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
        language = user.language_code or ""
        say = words(language)
        client = await client_actions.record_messenger_client(
            self.services,
            resource_id=resource.id,
            external_id=f"tg:{user.id}",
            display_name=" ".join(p for p in (user.first_name, user.last_name) if p),
            language=language,
            handle=("telegram", f"@{user.username}") if user.username else None,
        )
        if message.text and message.text.strip() == "/start":
            if client.is_blocked:
                await bot.send_message(message.chat.id, say["blocked"])
                return
            await bot.send_message(message.chat.id, say["greeting"])
            await self._offer_topics(resource, bot, message.chat.id, client, force=False)
            return
        if message.text and await rating_actions.take_comment(
            self.services, client.id, message.text
        ):
            language = request_actions.client_language(client)
            await bot.send_message(message.chat.id, rating_questions.THANKS_FOR_COMMENT[language])
            return
        body, attachment_ids = await self._content(bot, message, client, say)
        try:
            _, request = await request_actions.client_sends(
                self.services,
                client.id,
                body=body,
                attachment_ids=attachment_ids,
                # Telegram re-sends an update we did not confirm: the same update is one message.
                client_message_id=f"tg:{update.update_id}",
                # Kept so that an employee's answer to it can go out as a reply to it.
                meta={"channel_message_id": str(message.message_id)},
            )
        except Forbidden:
            await bot.send_message(message.chat.id, say["blocked"])
            return
        if request.status == STATUS_CHOOSING:
            await self._offer_topics(resource, bot, message.chat.id, client, force=True)

    async def _content(
        self, bot: Bot, message: Any, client: Client, say: dict[str, str]
    ) -> tuple[str, list[int]]:
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
            body = say["sticker"].format(emoji=message.sticker.emoji or "").replace(" ]", "]")
        elif not body:
            body = say["unsupported"]
        if file_id is None:
            return body, []
        data = await bot.download(file_id)
        assert data is not None
        upload = UploadFile(
            file=data, filename=name, headers=Headers({"content-type": content_type})
        )
        try:
            attachment = await save_upload(self.services, upload, client_id=client.id)
        except InvalidInput as refused:
            if refused.code != PICTURE_TOO_LARGE:
                raise
            # A picture too large to show still reaches the employee, as a file to download:
            # the client's message is not lost (the widget's client is told instead).
            data.seek(0)
            upload = UploadFile(
                file=data,
                filename=name,
                headers=Headers({"content-type": "application/octet-stream"}),
            )
            attachment = await save_upload(self.services, upload, client_id=client.id)
        return body, [attachment.id]

    async def _offer_topics(
        self, resource: Resource, bot: Bot, chat_id: int, client: Client, *, force: bool
    ) -> None:
        async with self.services.db.read() as session:
            topics = await request_actions.topics_of(session, resource.id)
        if not topics or (client.preferred_queue_id and not force):
            return
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=q.name, callback_data=f"topic:{q.id}")] for q in topics
            ]
        )
        await bot.send_message(chat_id, words(client.language)["choose"], reply_markup=keyboard)

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
        say = words(client.language)
        if score:
            await self._on_score(bot, query.from_user.id, client, score)
            return
        try:
            await request_actions.client_picks_topic(self.services, client.id, int(data[6:]))
        except Forbidden:
            await bot.send_message(query.from_user.id, say["blocked"])
            return
        except DomainError as exc:
            await bot.send_message(query.from_user.id, exc.detail)
            return
        async with self.services.db.read() as session:
            names = {q.id: q.name for q in await request_actions.topics_of(session, resource.id)}
        await bot.send_message(
            query.from_user.id, say["chosen"].format(name=names.get(int(data[6:]), ""))
        )

    async def _on_score(self, bot: Bot, chat_id: int, client: Client, score: re.Match[str]) -> None:
        """A score button under the rating question: taken once; then the client's next
        message, within a few minutes, is their comment."""
        language = request_actions.client_language(client)
        try:
            outcome = await rating_actions.rate(
                self.services, client.id, int(score["request"]), int(score["score"])
            )
        except DomainError:
            return
        thanks = (
            rating_questions.THANKS_ASK_COMMENT
            if outcome.accepted
            else rating_questions.ALREADY_RATED
        )
        await bot.send_message(chat_id, thanks[language])

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
