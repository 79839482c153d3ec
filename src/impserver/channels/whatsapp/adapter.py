"""WhatsApp (Cloud API): one business phone number per resource. Meta's webhooks become the
same actions the widget calls; outbound messages are sent by the delivery worker through
``send``. WhatsApp lets a business write freely for 24 hours after the client's last message;
past that only an approved template may be sent, which an employee chooses in the workspace."""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.channels import conversation, receipts
from impserver.channels.base import ConnectedAccount, DeliveryFailed, OutgoingFile, RetryLater
from impserver.channels.conversation import IncomingFile, Topic
from impserver.channels.delivery import mark_undelivered
from impserver.channels.whatsapp.client import (
    ACCESS_TOKEN_EXPIRED,
    INVALID_PARAMETER,
    PACING,
    PASSING,
    GraphApi,
    GraphError,
)
from impserver.channels.whatsapp.models import WhatsAppSent, WhatsAppTemplateSend
from impserver.core.clock import utcnow
from impserver.core.errors import InvalidInput
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients.models import Client
from impserver.domains.resources.models import KIND_WHATSAPP, Resource
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services

log = logging.getLogger(__name__)

# The customer-service window: how long after a client's message a business may write freely.
WINDOW = timedelta(hours=24)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Interactive messages: at most 3 reply buttons (titles of 20 characters), or a list of at most
# 10 rows (titles of 24) behind a button of 20.
BUTTONS = 3
BUTTON_TITLE = 20
LIST_ROWS = 10
ROW_TITLE = 24
# Approved templates change rarely: asked again after this many seconds.
TEMPLATES_KEPT_SECONDS = 300
# The ids of employee messages that carry a template (see WhatsAppTemplateSend).
TEMPLATE_PREFIX = "wa-tpl-"
IMAGE_TYPES = {"image/jpeg", "image/png"}
AUDIO_TYPES = {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}
VIDEO_TYPES = {"video/mp4", "video/3gpp"}
# WhatsApp tells nothing of the client's language: where their number is from is the best hint.
RUSSIAN_SPEAKING_CODES = ("7", "375")
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_REPLY_ID = re.compile(r"(?P<kind>topic|rate):(?P<a>\d{1,12})(?::(?P<b>[1-5]))?")


@dataclass(frozen=True)
class Template:
    """An approved message template whose only variables are in its body's text."""

    name: str
    language: str
    category: str
    body: str
    parameters: int


def template_of(raw: Any) -> Template | None:
    """A template of the Graph API's list, if it is approved and IMP can fill it in (a header
    with a picture, or a link button with a variable, needs more than words)."""
    if not isinstance(raw, dict) or raw.get("status") != "APPROVED":
        return None
    body = ""
    for component in raw.get("components") or []:
        kind = str(component.get("type", "")).upper()
        text = str(component.get("text") or "")
        pictured = kind == "HEADER" and component.get("format", "TEXT") != "TEXT"
        variable_link = kind == "BUTTONS" and any(
            "{{" in str(b.get("url", "")) for b in component.get("buttons") or []
        )
        if pictured or variable_link or (kind == "HEADER" and "{{" in text):
            return None
        if kind == "BODY":
            body = text
    numbers = {int(n) for n in _PLACEHOLDER.findall(body)}
    if numbers != set(range(1, len(numbers) + 1)):
        return None
    return Template(
        name=str(raw.get("name", "")),
        language=str(raw.get("language", "")),
        category=str(raw.get("category", "")),
        body=body,
        parameters=len(numbers),
    )


def render(template: Template, parameters: list[str]) -> str:
    """The template's words as the client reads them, for the history."""
    return _PLACEHOLDER.sub(lambda m: parameters[int(m[1]) - 1], template.body)


def _language_of(wa_id: str) -> str:
    return "ru" if wa_id.startswith(RUSSIAN_SPEAKING_CODES) else ""


def _extension(content_type: str) -> str:
    return {"audio/ogg": ".ogg", "image/jpeg": ".jpg"}.get(
        content_type, mimetypes.guess_extension(content_type) or ""
    )


class WhatsAppChat:
    """The conversation of one WhatsApp user with the business number."""

    def __init__(self, api: GraphApi, phone_number_id: str, wa_id: str, language: str) -> None:
        self.api = api
        self.phone_number_id = phone_number_id
        self.wa_id = wa_id
        self.language = language

    async def send(self, content: dict[str, Any]) -> str:
        """One message; the id WhatsApp gave it."""
        answer = await self.api.post(
            f"{self.phone_number_id}/messages",
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": self.wa_id,
                **content,
            },
        )
        return str(answer["messages"][0]["id"])

    async def say(self, text: str) -> None:
        await self.send({"type": "text", "text": {"body": text[:TEXT_LIMIT]}})

    async def offer_topics(self, prompt: str, topics: list[Topic]) -> None:
        options = [(f"topic:{t.id}", t.name) for t in topics]
        await self.send(choice(prompt, options, conversation.words(self.language)["topics"]))


def choice(text: str, options: list[tuple[str, str]], list_button: str) -> dict[str, Any]:
    """Reply buttons for up to three options, a list for more."""
    if len(options) <= BUTTONS:
        action: dict[str, Any] = {
            "buttons": [
                {"type": "reply", "reply": {"id": key, "title": title[:BUTTON_TITLE]}}
                for key, title in options
            ]
        }
        kind = "button"
    else:
        action = {
            "button": list_button[:BUTTON_TITLE],
            "sections": [
                {
                    "rows": [
                        {"id": key, "title": title[:ROW_TITLE]}
                        for key, title in options[:LIST_ROWS]
                    ]
                }
            ],
        }
        kind = "list"
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": text[:TEXT_LIMIT]}, "action": action},
    }


class WhatsAppChannel:
    kind = KIND_WHATSAPP

    def __init__(self, services: Services) -> None:
        self.services = services
        self._http: httpx.AsyncClient | None = None
        self._templates: dict[int, tuple[float, list[Template]]] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
        return self._http

    def api(self, token: str, app_secret: str) -> GraphApi:
        return GraphApi(self.http, self.services.settings.whatsapp_api_url, token, app_secret)

    def resource_api(self, resource: Resource) -> GraphApi:
        config = resource.channel_config
        return self.api(str(config["access_token"]), str(config["app_secret"]))

    def chat(self, resource: Resource, client: Client) -> WhatsAppChat:
        return WhatsAppChat(
            self.resource_api(resource),
            str(resource.channel_config["phone_number_id"]),
            client.external_id.removeprefix("wa:"),
            client.language,
        )

    # -- connecting ----------------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> ConnectedAccount:
        """Ask Meta about the number and the business account with the token, proving the app
        secret by the token's proof; subscribe the app to the account's webhooks."""
        number_id = str(credentials["phone_number_id"])
        account_id = str(credentials["business_account_id"])
        api = self.api(str(credentials["access_token"]), str(credentials["app_secret"]))
        step = "number"
        try:
            number = await api.get(number_id, fields="display_phone_number,verified_name")
            step = "account"
            await api.get(f"{account_id}/message_templates", fields="name", limit=1)
            await api.post(f"{account_id}/subscribed_apps")
        except GraphError as exc:
            raise _connect_refusal(exc, step) from exc
        except httpx.HTTPError as exc:
            raise InvalidInput(
                f"WhatsApp could not be reached to check the credentials: {exc}",
                code="whatsapp_unreachable",
            ) from exc
        shown = str(number.get("display_phone_number") or number_id)
        return ConnectedAccount(
            public_key=f"wa{number_id}",
            name=str(number.get("verified_name") or shown),
            handle=shown,
            config={
                "phone_number_id": number_id,
                "business_account_id": account_id,
                "access_token": str(credentials["access_token"]),
                "app_secret": str(credentials["app_secret"]),
                "verify_token": str(credentials["verify_token"]),
            },
        )

    # -- outbound --------------------------------------------------------------------------

    async def send(
        self,
        resource: Resource,
        client: Client,
        message: MessageRead,
        files: list[OutgoingFile],
    ) -> None:
        chat = self.chat(resource, client)
        async with self.services.db.read() as session:
            sent = set(
                await session.scalars(
                    select(WhatsAppSent.part).where(WhatsAppSent.message_id == message.id)
                )
            )
            template = await self._template_send(session, resource, message)
            open_, _ = await window(session, client)
        if template is None and not open_:
            raise DeliveryFailed(
                "More than 24 hours have passed since the client last wrote: WhatsApp takes "
                "only a template message now."
            )
        parts = self._parts(chat, client, message, files, template)
        try:
            for number, part in enumerate(parts):
                if number in sent:
                    continue
                wamid = await chat.send(await part())
                await self._sent(resource.id, message.id, number, wamid)
        except GraphError as exc:
            if exc.code in PACING:
                raise RetryLater(PACING[exc.code], str(exc)) from exc
            if exc.code in PASSING or exc.status >= 500:
                raise RetryLater(5.0, str(exc)) from exc
            raise DeliveryFailed(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise RetryLater(5.0, f"WhatsApp could not be reached: {exc}") from exc

    async def _template_send(
        self, session: AsyncSession, resource: Resource, message: MessageRead
    ) -> WhatsAppTemplateSend | None:
        key = message.client_message_id or ""
        if not key.startswith(TEMPLATE_PREFIX):
            return None
        found: WhatsAppTemplateSend | None = await session.scalar(
            select(WhatsAppTemplateSend)
            .where(WhatsAppTemplateSend.client_message_id == key)
            .where(WhatsAppTemplateSend.resource_id == resource.id)
        )
        return found

    def _parts(
        self,
        chat: WhatsAppChat,
        client: Client,
        message: MessageRead,
        files: list[OutgoingFile],
        template: WhatsAppTemplateSend | None,
    ) -> list[Callable[[], Awaitable[dict[str, Any]]]]:
        """What goes out, piece by piece: each makes its message when its turn comes (a file
        is uploaded only then)."""

        def fixed(content: dict[str, Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
            async def make() -> dict[str, Any]:
                return content

            return make

        if template is not None:
            parameters = [{"type": "text", "text": p} for p in template.parameters]
            return [
                fixed(
                    {
                        "type": "template",
                        "template": {
                            "name": template.name,
                            "language": {"code": template.language},
                            **(
                                {"components": [{"type": "body", "parameters": parameters}]}
                                if parameters
                                else {}
                            ),
                        },
                    }
                )
            ]
        if (request_id := conversation.asks_for_rating(message)) is not None:
            scores = [(f"rate:{request_id}:{n}", str(n)) for n in range(1, 6)]
            label = conversation.words(client.language)["rate"]
            return [fixed(choice(message.body, scores, label))]
        parts: list[Callable[[], Awaitable[dict[str, Any]]]] = [
            self._media_part(chat, file) for file in files
        ]
        text = conversation.outgoing_text(message)
        parts += [
            fixed({"type": "text", "text": {"body": piece}})
            for piece in conversation.split_text(text, TEXT_LIMIT)
        ]
        answered = conversation.answered_message_id(message)
        if answered and parts:
            first = parts[0]

            async def in_reply() -> dict[str, Any]:
                return {**(await first()), "context": {"message_id": answered}}

            parts[0] = in_reply
        return parts

    def _media_part(
        self, chat: WhatsAppChat, file: OutgoingFile
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def make() -> dict[str, Any]:
            attachment = file.attachment
            content_type = attachment.content_type
            data = b"".join([chunk async for chunk in file.chunks()])
            if content_type in IMAGE_TYPES:
                kind = "image"
            elif content_type in AUDIO_TYPES:
                kind = "audio"
            elif content_type in VIDEO_TYPES:
                kind = "video"
            else:
                kind, content_type = "document", content_type or "application/octet-stream"
            media_id = await chat.api.upload(
                chat.phone_number_id, attachment.file_name, data, content_type
            )
            media: dict[str, Any] = {"id": media_id}
            if kind == "document":
                media["filename"] = attachment.file_name
            return {"type": kind, kind: media}

        return make

    async def _sent(self, resource_id: int, message_id: int, part: int, wamid: str) -> None:
        with contextlib.suppress(IntegrityError):
            async with self.services.db.transaction() as uow:
                uow.session.add(
                    WhatsAppSent(
                        resource_id=resource_id, message_id=message_id, part=part, wamid=wamid
                    )
                )

    # -- inbound ---------------------------------------------------------------------------

    async def handle(self, resource: Resource, notification: dict[str, Any]) -> None:
        """One webhook notification: the messages and statuses of the resource's number."""
        number_id = str(resource.channel_config["phone_number_id"])
        # Signed by Meta, yet read as anything else from outside: what is not the shape of a
        # notification is passed over.
        for entry in _objects(notification.get("entry")):
            for change in _objects(entry.get("changes")):
                value = change.get("value")
                if change.get("field") != "messages" or not isinstance(value, dict):
                    continue
                metadata = value.get("metadata")
                if (
                    not isinstance(metadata, dict)
                    or str(metadata.get("phone_number_id")) != number_id
                ):
                    continue
                names = {}
                for contact in _objects(value.get("contacts")):
                    profile = contact.get("profile")
                    if isinstance(profile, dict):
                        names[str(contact.get("wa_id"))] = str(profile.get("name") or "")
                for message in _objects(value.get("messages")):
                    await self._on_message(resource, message, names)
                for status in _objects(value.get("statuses")):
                    await self._on_status(resource, status)

    async def _on_message(
        self, resource: Resource, message: dict[str, Any], names: dict[str, str]
    ) -> None:
        wa_id, wamid = str(message.get("from") or ""), str(message.get("id") or "")
        if not wa_id.isdigit() or not wamid:
            return
        kind = message.get("type")
        if kind == "reaction":
            return  # a reaction to a message is not a message
        key = conversation.message_key("wa", wamid)
        if await receipts.already_received(self.services, resource.id, key):
            return
        client = await client_actions.record_messenger_client(
            self.services,
            resource_id=resource.id,
            external_id=f"wa:{wa_id}",
            display_name=names.get(wa_id, ""),
            language=_language_of(wa_id),
            handle=("whatsapp", f"+{wa_id}"),
        )
        chat = self.chat(resource, client)
        reply = _reply_id(message)
        if reply is not None and reply["kind"] == "topic":
            await conversation.client_picks_topic(
                self.services, resource, client, chat, int(reply["a"])
            )
        elif reply is not None and reply["b"]:
            await conversation.client_rates(
                self.services, client, chat, int(reply["a"]), int(reply["b"])
            )
        else:
            body, files = await self._content(chat, message, client)
            await conversation.client_writes(
                self.services,
                resource,
                client,
                chat,
                body=body,
                files=files,
                key=key,
                channel_message_id=wamid,
            )
        await receipts.remember(
            self.services,
            resource.id,
            key,
            client_id=client.id,
            sent_at=receipts.unix_time(message.get("timestamp")),
        )

    async def _content(
        self, chat: WhatsAppChat, message: dict[str, Any], client: Client
    ) -> tuple[str, list[IncomingFile]]:
        say = conversation.words(client.language)
        kind = str(message.get("type") or "")
        content = message.get(kind) if isinstance(message.get(kind), dict) else {}
        assert isinstance(content, dict)
        if kind == "text":
            return str(content.get("body") or "") or say["unsupported"], []
        if kind == "button":  # a quick reply under a template
            return str(content.get("text") or content.get("payload") or ""), []
        if kind == "interactive":
            picked = content.get(str(content.get("type")))
            title = picked.get("title") if isinstance(picked, dict) else None
            return str(title or "") or say["unsupported"], []
        if kind == "sticker":
            return say["sticker"], []
        if kind == "location":
            place = ", ".join(str(content[k]) for k in ("name", "address") if content.get(k))
            where = f"{content.get('latitude')}, {content.get('longitude')}"
            return f"📍 {where}" + (f" — {place}" if place else ""), []
        if kind not in ("image", "document", "audio", "video") or not content.get("id"):
            return say["unsupported"], []
        caption = str(content.get("caption") or "")
        if kind == "audio" and not caption:
            caption = say["voice"]
        found = await chat.api.media_url(str(content["id"]))
        content_type = str(content.get("mime_type") or found.get("mime_type") or "")
        content_type = content_type.split(";")[0].strip() or "application/octet-stream"
        if kind == "document":
            name = str(content.get("filename") or "document" + _extension(content_type))
        elif kind == "audio":
            name = ("voice" if content.get("voice") else "audio") + _extension(content_type)
        else:
            name = ("photo" if kind == "image" else "video") + _extension(content_type)
        data = await self._download(chat.api, str(found["url"]))
        if data is None:
            return f"{caption} [{name}: {say['unsupported']}]".strip(), []
        return caption, [IncomingFile(name, content_type, data)]

    async def _download(self, api: GraphApi, url: str) -> bytes | None:
        limit = self.services.settings.upload_max_bytes
        async with api.download(url) as response:
            response.raise_for_status()
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    return None
        return bytes(data)

    async def _on_status(self, resource: Resource, status: dict[str, Any]) -> None:
        """WhatsApp took a message, then could not deliver it: marked on the message."""
        if status.get("status") != "failed":
            return
        async with self.services.db.read() as session:
            message_id = await session.scalar(
                select(WhatsAppSent.message_id)
                .where(WhatsAppSent.resource_id == resource.id)
                .where(WhatsAppSent.wamid == str(status.get("id") or ""))
            )
        if message_id is None:
            return
        errors = _objects(status.get("errors"))
        reason = "; ".join(
            f"{e.get('code')}: {e.get('title') or e.get('message') or ''}".strip() for e in errors
        )
        await mark_undelivered(
            self.services, KIND_WHATSAPP, message_id, f"WhatsApp could not deliver it: {reason}"
        )

    # -- the 24-hour window and templates ------------------------------------------------------

    async def templates(self, resource: Resource) -> list[Template]:
        """The number's business account's approved templates IMP can fill in."""
        kept = self._templates.get(resource.id)
        if kept is not None and time.monotonic() - kept[0] < TEMPLATES_KEPT_SECONDS:
            return kept[1]
        api = self.resource_api(resource)
        account = resource.channel_config["business_account_id"]
        try:
            found = await api.get(
                f"{account}/message_templates",
                fields="name,language,status,category,components",
                status="APPROVED",
                limit=200,
            )
        except (GraphError, httpx.HTTPError) as exc:
            raise InvalidInput(
                f"WhatsApp's templates could not be read: {exc}",
                code="whatsapp_templates_unavailable",
            ) from exc
        templates = [t for t in map(template_of, found.get("data") or []) if t is not None]
        self._templates[resource.id] = (time.monotonic(), templates)
        return templates

    # -- running -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to start: WhatsApp only calls webhooks."""

    async def refresh(self) -> None:
        self._templates.clear()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


async def window(session: AsyncSession, client: Client) -> tuple[bool, datetime | None]:
    """Whether the client's customer-service window is open, and until when."""
    last = await receipts.last_written_at(session, client.id)
    closes_at = last + WINDOW if last is not None else None
    return closes_at is not None and closes_at > utcnow(), closes_at


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a list in a notification; nothing when it is not a list."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _reply_id(message: dict[str, Any]) -> re.Match[str] | None:
    """The id of a reply button or list row the client chose (ids IMP gave them)."""
    if message.get("type") != "interactive":
        return None
    interactive = message.get("interactive") or {}
    picked = (
        interactive.get(str(interactive.get("type"))) if isinstance(interactive, dict) else None
    )
    if not isinstance(picked, dict):
        return None
    return _REPLY_ID.fullmatch(str(picked.get("id") or ""))


def _connect_refusal(exc: GraphError, step: str) -> InvalidInput:
    if exc.code == ACCESS_TOKEN_EXPIRED or exc.status == 401:
        return InvalidInput(
            "WhatsApp did not accept this access token.", code="whatsapp_token_rejected"
        )
    if exc.code == INVALID_PARAMETER and "appsecret_proof" in exc.message:
        return InvalidInput(
            "The app secret is not the secret of the access token's app.",
            code="whatsapp_app_secret_rejected",
        )
    if exc.code == INVALID_PARAMETER and step == "number":
        return InvalidInput(
            "No phone number with this ID can be reached with this token.",
            code="whatsapp_number_not_found",
        )
    if exc.code == INVALID_PARAMETER:
        return InvalidInput(
            "No WhatsApp Business Account with this ID can be reached with this token.",
            code="whatsapp_account_not_found",
        )
    return InvalidInput(
        f"WhatsApp refused: {exc.message}", code="whatsapp_refused", params={"message": exc.message}
    )
