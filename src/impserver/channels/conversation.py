"""A client's conversation through a messenger, whatever the messenger (M-1, M-2).

The adapters turn what their messenger sends into these calls, and show what the client is
told in their messenger's own way (a keyboard, reply buttons, a list). The rules of requests
live in the domain: this is only the order of the calls the widget makes too.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Protocol

from fastapi import UploadFile
from starlette.datastructures import Headers

from impserver.core.errors import DomainError, Forbidden, InvalidInput
from impserver.domains.clients.models import Client
from impserver.domains.ratings import actions as rating_actions
from impserver.domains.ratings import questions as rating_questions
from impserver.domains.requests import actions as request_actions
from impserver.domains.requests.models import STATUS_CHOOSING
from impserver.domains.resources.models import Resource
from impserver.domains.rooms.messaging import save_upload
from impserver.domains.rooms.schemas import AttachmentRead, MessageRead
from impserver.domains.rooms.thumbnails import PICTURE_TOO_LARGE
from impserver.services import Services

WORDS = {
    "ru": {
        "greeting": "Здравствуйте! Напишите ваш вопрос — сотрудник ответит здесь же.",
        "choose": "Выберите тему обращения:",
        "topics": "Темы",
        "chosen": "Тема выбрана: {name}",
        "blocked": "К сожалению, вы больше не можете писать в этот чат.",
        "sticker": "[стикер]",
        # Telegram gives a sticker's emoji.
        "sticker_emoji": "[стикер {emoji}]",
        "voice": "[голосовое сообщение]",
        "unsupported": "[сообщение, которое нельзя показать]",
        "rate": "Оценка",
    },
    "en": {
        "greeting": "Hello! Write your question and an employee will answer right here.",
        "choose": "Choose a topic:",
        "topics": "Topics",
        "chosen": "Topic chosen: {name}",
        "blocked": "Sorry, you can no longer send messages in this chat.",
        "sticker": "[sticker]",
        "sticker_emoji": "[sticker {emoji}]",
        "voice": "[voice message]",
        "unsupported": "[a message that cannot be shown]",
        "rate": "Rating",
    },
}


def words(language: str | None) -> dict[str, str]:
    return WORDS["ru" if (language or "").startswith("ru") else "en"]


def message_key(prefix: str, messenger_id: str) -> str:
    """The ``client_message_id`` of a client's message from its messenger id: the same message
    sent again is the same message. Long ids (WhatsApp's run past the column) are hashed."""
    key = f"{prefix}:{messenger_id}"
    if len(key) <= 64:
        return key
    return f"{prefix}#" + hashlib.sha256(messenger_id.encode()).hexdigest()[:48]


@dataclass(frozen=True)
class Topic:
    id: int
    name: str


@dataclass(frozen=True)
class IncomingFile:
    """A file a client sent, as the messenger gave it."""

    name: str
    content_type: str
    data: bytes


class ClientChat(Protocol):
    """The dialog with one client on one messenger: how the adapter tells them things."""

    async def say(self, text: str) -> None: ...

    async def offer_topics(self, prompt: str, topics: list[Topic]) -> None: ...


async def _topics(services: Services, resource_id: int) -> list[Topic]:
    async with services.db.read() as session:
        return [Topic(q.id, q.name) for q in await request_actions.topics_of(session, resource_id)]


async def offer_topics(
    services: Services, resource: Resource, client: Client, chat: ClientChat, *, force: bool
) -> None:
    """W-1: the topics, unless there is no choice, or (not ``force``d) the client made theirs
    once already (W-5)."""
    topics = await _topics(services, resource.id)
    if not topics or (client.preferred_queue_id and not force):
        return
    await chat.offer_topics(words(client.language)["choose"], topics)


async def client_starts(
    services: Services, resource: Resource, client: Client, chat: ClientChat
) -> None:
    """The client opened the dialog (Start): a greeting and the topics."""
    say = words(client.language)
    if client.is_blocked:
        await chat.say(say["blocked"])
        return
    await chat.say(say["greeting"])
    await offer_topics(services, resource, client, chat, force=False)


async def store_file(services: Services, client: Client, file: IncomingFile) -> AttachmentRead:
    upload = UploadFile(
        file=io.BytesIO(file.data),
        filename=file.name,
        headers=Headers({"content-type": file.content_type}),
    )
    try:
        return await save_upload(services, upload, client_id=client.id)
    except InvalidInput as refused:
        if refused.code != PICTURE_TOO_LARGE:
            raise
    # A picture too large to show still reaches the employee, as a file to download: the
    # client's message is not lost (the widget's client is told instead).
    upload = UploadFile(
        file=io.BytesIO(file.data),
        filename=file.name,
        headers=Headers({"content-type": "application/octet-stream"}),
    )
    return await save_upload(services, upload, client_id=client.id)


async def client_writes(
    services: Services,
    resource: Resource,
    client: Client,
    chat: ClientChat,
    *,
    body: str,
    files: list[IncomingFile],
    key: str,
    channel_message_id: str = "",
    may_be_comment: bool = True,
) -> None:
    """A client's message: a comment on a rating just given, or a message of their request.
    Not ``may_be_comment``: the messenger's own placeholder words, never a comment."""
    if (
        may_be_comment
        and body
        and not files
        and await rating_actions.take_comment(services, client.id, body)
    ):
        language = request_actions.client_language(client)
        await chat.say(rating_questions.THANKS_FOR_COMMENT[language])
        return
    attachment_ids = [(await store_file(services, client, file)).id for file in files]
    try:
        _, request = await request_actions.client_sends(
            services,
            client.id,
            body=body,
            attachment_ids=attachment_ids,
            client_message_id=key,
            # Kept so that an employee's answer to it can go out as a reply to it.
            meta={"channel_message_id": channel_message_id} if channel_message_id else None,
        )
    except Forbidden:
        await chat.say(words(client.language)["blocked"])
        return
    if request.status == STATUS_CHOOSING:
        await offer_topics(services, resource, client, chat, force=True)


async def client_picks_topic(
    services: Services, resource: Resource, client: Client, chat: ClientChat, queue_id: int
) -> None:
    say = words(client.language)
    try:
        await request_actions.client_picks_topic(services, client.id, queue_id)
    except Forbidden:
        await chat.say(say["blocked"])
        return
    except DomainError as exc:
        await chat.say(exc.detail)
        return
    names = {t.id: t.name for t in await _topics(services, resource.id)}
    await chat.say(say["chosen"].format(name=names.get(queue_id, "")))


async def client_rates(
    services: Services, client: Client, chat: ClientChat, request_id: int, score: int
) -> None:
    """A score under the rating question: taken once; then the client's next message, within
    a few minutes, is their comment."""
    language = request_actions.client_language(client)
    try:
        outcome = await rating_actions.rate(services, client.id, request_id, score)
    except DomainError:
        return
    thanks = (
        rating_questions.THANKS_ASK_COMMENT if outcome.accepted else rating_questions.ALREADY_RATED
    )
    await chat.say(thanks[language])


def split_text(text: str, limit: int) -> list[str]:
    """Messengers refuse long texts: cut at line or word ends where possible."""
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


def outgoing_text(message: MessageRead) -> str:
    """What the client reads of a message: an employee's words under their name."""
    text = message.body
    if message.author.kind == "employee" and message.author.name and message.kind == "text":
        text = f"{message.author.name}:\n{text}" if text else message.author.name
    return text


def asks_for_rating(message: MessageRead) -> int | None:
    """The request a rating question is about, when the message is one."""
    if message.meta.get("transition") != rating_actions.TRANSITION_ASKED:
        return None
    request_id = message.meta.get("request_id")
    return request_id if isinstance(request_id, int) else None


def answered_message_id(message: MessageRead) -> str | None:
    """The messenger's id of the client's message an employee's message answers, if any."""
    quote = message.reply_to
    if quote is None or quote.author.kind != "client" or not quote.channel_message_id:
        return None
    return quote.channel_message_id
