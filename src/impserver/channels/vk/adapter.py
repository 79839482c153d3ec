"""VK: one community per resource. A client writes to the community's messages; events come by
the Callback API (webhooks) or the Bots Long Poll API and become the same actions the widget
calls; outbound messages are sent by the delivery worker through ``send``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import secrets
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from impserver.channels import conversation, receipts
from impserver.channels.base import ConnectedAccount, DeliveryFailed, OutgoingFile, RetryLater
from impserver.channels.conversation import IncomingFile, Topic
from impserver.channels.receiving import Backoff, Receivers, still_receiving
from impserver.channels.vk.client import (
    ACCESS_DENIED,
    API_VERSION,
    FLOOD_CONTROL,
    NO_PERMISSION,
    PASSING_REFUSALS,
    TOKEN_REFUSALS,
    TOO_MANY_REQUESTS,
    VkApi,
    VkError,
)
from impserver.core.errors import InvalidInput
from impserver.domains.clients import actions as client_actions
from impserver.domains.clients.models import Client
from impserver.domains.resources.models import KIND_VK, Resource
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
ATTACHMENTS_PER_MESSAGE = 10
POLL_WAIT = 25
# An inline keyboard holds at most 10 buttons in 6 rows; more topics go in an ordinary one.
INLINE_BUTTONS = 10
INLINE_ROWS = 6
KEYBOARD_BUTTONS = 40
LABEL_LIMIT = 40
# A client's language from the VK app's (client_info.lang_id).
LANGUAGES = {0: "ru", 1: "uk", 2: "be", 3: "en", 4: "es", 5: "fi", 6: "de", 7: "it"}
# VK sends a message with this payload when the client presses "Start" in a new dialog.
START = "start"
# Peer ids from this one up are group chats, not a person's dialog with the community.
CHAT_PEERS = 2_000_000_000
# Profiles (names, short names) looked up lately, by user id: each message would ask again.
PROFILES_KEPT = 2000


def _payload(raw: Any) -> dict[str, Any]:
    """A button's payload: VK sends it as a JSON string in messages, as an object in events."""
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            raw = json.loads(raw)
    return raw if isinstance(raw, dict) else {}


def _button(label: str, payload: dict[str, Any], kind: str = "callback") -> dict[str, Any]:
    return {
        "action": {"type": kind, "label": label[:LABEL_LIMIT], "payload": json.dumps(payload)},
        "color": "secondary",
    }


def topic_keyboard(topics: list[Topic]) -> dict[str, Any]:
    """Callback buttons under the message, like Telegram's; past ten topics, an ordinary
    keyboard of text buttons (their payload comes back with the message they send)."""
    if len(topics) <= INLINE_BUTTONS:
        per_row = 1 if len(topics) <= INLINE_ROWS else 2
        buttons = [_button(t.name, {"topic": t.id}) for t in topics]
        rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
        return {"inline": True, "buttons": rows}
    buttons = [_button(t.name, {"topic": t.id}, "text") for t in topics[:KEYBOARD_BUTTONS]]
    return {
        "one_time": True,
        "buttons": [buttons[i : i + 4] for i in range(0, len(buttons), 4)],
    }


def score_keyboard(request_id: int) -> dict[str, Any]:
    return {
        "inline": True,
        "buttons": [[_button(str(n), {"rate": request_id, "score": n}) for n in range(1, 6)]],
    }


def random_id(message_id: int, part: int) -> int:
    """The same piece of the same message has the same ``random_id``: VK does not send it
    twice, so a delivery retried after a lost answer does not repeat it."""
    return (message_id * 64 + part) % (2**31 - 1) + 1


def _largest_photo(photo: dict[str, Any]) -> str | None:
    original = photo.get("orig_photo")
    if isinstance(original, dict) and original.get("url"):
        return str(original["url"])
    sizes = [s for s in photo.get("sizes") or [] if isinstance(s, dict) and s.get("url")]
    if not sizes:
        return None
    best = max(sizes, key=lambda s: int(s.get("width") or 0) * int(s.get("height") or 0))
    return str(best["url"])


class VkChat:
    """The dialog of one VK user with the community."""

    def __init__(self, api: VkApi, user_id: int) -> None:
        self.api = api
        self.user_id = user_id

    async def say(self, text: str, keyboard: dict[str, Any] | None = None) -> None:
        await self.api.call(
            "messages.send",
            user_id=self.user_id,
            random_id=secrets.randbelow(2**31 - 1) + 1,
            message=text,
            keyboard=json.dumps(keyboard, ensure_ascii=False) if keyboard else None,
        )

    async def offer_topics(self, prompt: str, topics: list[Topic]) -> None:
        await self.say(prompt, topic_keyboard(topics))


class VkChannel:
    kind = KIND_VK

    def __init__(self, services: Services) -> None:
        self.services = services
        self._http: httpx.AsyncClient | None = None
        self.receivers = Receivers(
            services,
            kind=KIND_VK,
            mode=lambda: services.settings.vk_mode,
            webhook_path="callback",
            what="VK community",
            errors=(VkError, httpx.HTTPError, KeyError, TypeError),
        )
        self._profiles: dict[int, dict[str, Any]] = {}

    # -- the VK API --------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
        return self._http

    def api(self, token: str) -> VkApi:
        return VkApi(self.http, self.services.settings.vk_api_url, token)

    def resource_api(self, resource: Resource) -> VkApi:
        return self.api(str(resource.channel_config["token"]))

    async def connect(self, credentials: dict[str, Any]) -> ConnectedAccount:
        """Ask VK whose token this is, and whether it may run the community's messages."""
        token, group_id = str(credentials["token"]), int(credentials["group_id"])
        api = self.api(token)
        try:
            found = await api.call("groups.getById")
            groups = found.get("groups", []) if isinstance(found, dict) else found
            group = groups[0] if groups else {}
            if int(group.get("id") or 0) != group_id:
                raise InvalidInput(
                    f"This token belongs to another VK community (id {group.get('id')}).",
                    code="vk_group_mismatch",
                    params={"group_id": group.get("id")},
                )
            # Needs the right to manage the community, as receiving messages does.
            confirmation = await api.call("groups.getCallbackConfirmationCode", group_id=group_id)
        except VkError as exc:
            if exc.code in TOKEN_REFUSALS:
                raise InvalidInput(
                    "VK did not accept this community token.", code="vk_token_rejected"
                ) from exc
            if exc.code in (ACCESS_DENIED, NO_PERMISSION):
                raise InvalidInput(
                    "The token may not manage the community: create it with the rights to "
                    "manage the community and to its messages.",
                    code="vk_token_lacks_rights",
                ) from exc
            raise InvalidInput(
                f"VK refused: {exc.message}", code="vk_refused", params={"message": exc.message}
            ) from exc
        except httpx.HTTPError as exc:
            raise InvalidInput(
                f"VK could not be reached to check the token: {exc}", code="vk_unreachable"
            ) from exc
        return ConnectedAccount(
            public_key=f"vk{group_id}",
            name=str(group.get("name") or f"club{group_id}"),
            handle=str(group.get("screen_name") or f"club{group_id}"),
            config={
                "token": token,
                "group_id": group_id,
                "confirmation_code": str(confirmation["code"]),
                # Only Latin letters and digits, at most 50 of them, as VK requires.
                "secret": secrets.token_hex(20),
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
        api = self.resource_api(resource)
        user_id = int(client.external_id.removeprefix("vk:"))
        try:
            if (request_id := conversation.asks_for_rating(message)) is not None:
                await api.call(
                    "messages.send",
                    user_id=user_id,
                    random_id=random_id(message.id, 0),
                    message=message.body,
                    keyboard=json.dumps(score_keyboard(request_id)),
                )
                return
            attachments = [await self._upload(api, user_id, file) for file in files]
            texts = conversation.split_text(conversation.outgoing_text(message), TEXT_LIMIT)
            pieces = max(len(texts), -(-len(attachments) // ATTACHMENTS_PER_MESSAGE), 1)
            answered = conversation.answered_message_id(message)
            for part in range(pieces):
                batch = attachments[
                    part * ATTACHMENTS_PER_MESSAGE : (part + 1) * ATTACHMENTS_PER_MESSAGE
                ]
                await api.call(
                    "messages.send",
                    user_id=user_id,
                    random_id=random_id(message.id, part),
                    message=texts[part] if part < len(texts) else None,
                    attachment=",".join(batch) or None,
                    # An answer to one of the client's messages goes out as a reply to it.
                    forward=json.dumps(
                        {
                            "peer_id": user_id,
                            "conversation_message_ids": [int(answered)],
                            "is_reply": True,
                        }
                    )
                    if answered and answered.isdigit() and part == 0
                    else None,
                )
        except VkError as exc:
            if exc.code == TOO_MANY_REQUESTS:
                raise RetryLater(1.0, str(exc)) from exc
            if exc.code == FLOOD_CONTROL:
                raise RetryLater(60.0, str(exc)) from exc
            if exc.code in PASSING_REFUSALS:
                raise RetryLater(5.0, str(exc)) from exc
            raise DeliveryFailed(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise RetryLater(5.0, f"VK could not be reached: {exc}") from exc

    async def _upload(self, api: VkApi, user_id: int, file: OutgoingFile) -> str:
        """An employee's file put on VK's upload server and saved: its attachment string."""
        data = b"".join([chunk async for chunk in file.chunks()])
        attachment = file.attachment
        if attachment.is_image and attachment.content_type in (
            "image/jpeg",
            "image/png",
            "image/gif",
        ):
            server = await api.call("photos.getMessagesUploadServer", peer_id=user_id)
            uploaded = await api.upload(
                server["upload_url"], "photo", attachment.file_name, data, attachment.content_type
            )
            (photo,) = await api.call(
                "photos.saveMessagesPhoto",
                photo=uploaded["photo"],
                server=uploaded["server"],
                hash=uploaded["hash"],
            )
            key = f"_{photo['access_key']}" if photo.get("access_key") else ""
            return f"photo{photo['owner_id']}_{photo['id']}{key}"
        # An Ogg voice recording goes as a voice message, anything else as a document.
        voice = attachment.content_type in ("audio/ogg", "audio/opus")
        server = await api.call(
            "docs.getMessagesUploadServer",
            type="audio_message" if voice else "doc",
            peer_id=user_id,
        )
        uploaded = await api.upload(
            server["upload_url"], "file", attachment.file_name, data, attachment.content_type
        )
        saved = await api.call("docs.save", file=uploaded["file"], title=attachment.file_name)
        doc = saved.get(saved.get("type", "doc")) or saved.get("doc") or {}
        return f"doc{doc['owner_id']}_{doc['id']}"

    # -- inbound ---------------------------------------------------------------------------

    async def handle(self, resource: Resource, event: dict[str, Any]) -> None:
        """One event of the community, from the Callback API or the Long Poll API alike."""
        kind = event.get("type")
        body = event.get("object")
        if not isinstance(body, dict):
            return
        if kind == "message_new":
            await self._on_message(resource, body)
        elif kind == "message_event":
            await self._on_button(resource, body)

    async def _profile(self, api: VkApi, user_id: int) -> dict[str, Any]:
        if user_id not in self._profiles:
            try:
                (profile,) = await api.call("users.get", user_ids=user_id, fields="screen_name")
            except (VkError, httpx.HTTPError, ValueError, TypeError) as exc:
                # The message matters more than the name: taken without one.
                log.warning("VK profile of user %s not read: %s", user_id, exc)
                return {}
            if len(self._profiles) >= PROFILES_KEPT:
                self._profiles.clear()
            self._profiles[user_id] = profile
        return self._profiles[user_id]

    async def _client(
        self, resource: Resource, api: VkApi, user_id: int, language: str = ""
    ) -> Client:
        profile = await self._profile(api, user_id)
        name = " ".join(str(p) for p in (profile.get("first_name"), profile.get("last_name")) if p)
        page = str(profile.get("screen_name") or f"id{user_id}")
        return await client_actions.record_messenger_client(
            self.services,
            resource_id=resource.id,
            external_id=f"vk:{user_id}",
            display_name=name,
            language=language,
            handle=("vk", f"https://vk.com/{page}"),
        )

    async def _on_message(self, resource: Resource, body: dict[str, Any]) -> None:
        message = body.get("message")
        if not isinstance(message, dict):
            return
        user_id, peer_id = message.get("from_id"), message.get("peer_id")
        # A person's own dialog with the community; not the community's own messages, not
        # group chats.
        if (
            not isinstance(user_id, int)
            or user_id <= 0
            or peer_id != user_id
            or peer_id >= CHAT_PEERS
            or message.get("out")
        ):
            return
        key = conversation.message_key(
            "vk", str(message.get("id") or message.get("conversation_message_id"))
        )
        if await receipts.already_received(self.services, resource.id, key):
            return
        api = self.resource_api(resource)
        info = body.get("client_info")
        lang_id = info.get("lang_id") if isinstance(info, dict) else None
        language = LANGUAGES.get(lang_id, "") if isinstance(lang_id, int) else ""
        client = await self._client(resource, api, user_id, language)
        chat = VkChat(api, user_id)
        payload = _payload(message.get("payload"))
        if payload.get("command") == START:
            await conversation.client_starts(self.services, resource, client, chat)
        elif isinstance(payload.get("topic"), int):
            await conversation.client_picks_topic(
                self.services, resource, client, chat, payload["topic"]
            )
        else:
            text, files = await self._content(message, client)
            await conversation.client_writes(
                self.services,
                resource,
                client,
                chat,
                body=text,
                files=files,
                key=key,
                channel_message_id=str(message.get("conversation_message_id") or ""),
            )
        await receipts.remember(
            self.services,
            resource.id,
            key,
            client_id=client.id,
            sent_at=receipts.unix_time(message.get("date")),
        )

    async def _download(self, url: str) -> bytes | None:
        """A file of a client's message, or None if it is larger than IMP takes."""
        limit = self.services.settings.upload_max_bytes
        async with self.http.stream("GET", url, timeout=120) as response:
            response.raise_for_status()
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > limit:
                    return None
        return bytes(data)

    async def _content(
        self, message: dict[str, Any], client: Client
    ) -> tuple[str, list[IncomingFile]]:
        say = conversation.words(client.language)
        body = str(message.get("text") or "")
        notes: list[str] = []
        files: list[IncomingFile] = []
        for item in message.get("attachments") or []:
            kind = item.get("type") if isinstance(item, dict) else None
            content = item.get(kind) if kind else None
            if not isinstance(content, dict):
                continue
            url, name, content_type = None, "", "application/octet-stream"
            if kind == "photo":
                url, name, content_type = _largest_photo(content), "photo.jpg", "image/jpeg"
            elif kind == "doc":
                url, name = content.get("url"), str(content.get("title") or "document")
                if content.get("ext") and "." not in name:
                    name = f"{name}.{content['ext']}"
                content_type = mimetypes.guess_type(name)[0] or content_type
            elif kind == "audio_message":
                url, name, content_type = content.get("link_ogg"), "voice.ogg", "audio/ogg"
                notes.append(say["voice"])
            elif kind == "sticker":
                notes.append(say["sticker"])
            else:
                notes.append(say["unsupported"])
            if not url:
                continue
            data = await self._download(str(url))
            if data is None:
                notes.append(f"[{name}: {say['unsupported']}]")
            elif data:
                files.append(IncomingFile(name, content_type, data))
        if not body:
            body = " ".join(notes)
        if not body and not files:
            body = say["unsupported"]
        return body, files

    async def _on_button(self, resource: Resource, body: dict[str, Any]) -> None:
        user_id, event_id = body.get("user_id"), body.get("event_id")
        if not isinstance(user_id, int) or user_id <= 0 or not isinstance(event_id, str):
            return
        api = self.resource_api(resource)
        # Stops the button's spinner in the client's app.
        with contextlib.suppress(VkError, httpx.HTTPError):
            await api.call(
                "messages.sendMessageEventAnswer",
                event_id=event_id,
                user_id=user_id,
                peer_id=body.get("peer_id", user_id),
            )
        key = f"vk-event:{event_id}"
        if await receipts.already_received(self.services, resource.id, key):
            return
        payload = _payload(body.get("payload"))
        client = await self._client(resource, api, user_id)
        chat = VkChat(api, user_id)
        if isinstance(payload.get("topic"), int):
            await conversation.client_picks_topic(
                self.services, resource, client, chat, payload["topic"]
            )
        elif isinstance(payload.get("rate"), int) and payload.get("score") in range(1, 6):
            await conversation.client_rates(
                self.services, client, chat, payload["rate"], int(payload["score"])
            )
        await receipts.remember(self.services, resource.id, key, client_id=client.id)

    # -- receiving: the Callback API or long polling ----------------------------------------

    async def start(self) -> None:
        await self.refresh()

    async def refresh(self) -> None:
        """Start receiving for every active community, stop it for removed or disabled ones."""
        await self.receivers.refresh(
            use_webhook=self._use_callback, use_polling=self._set_up_long_poll, poll=self._poll
        )

    async def _use_callback(self, resource: Resource, url: str) -> None:
        # Set up once for an address: each setting up asks VK several times.
        if self.receivers.webhooks.get(resource.id) != url:
            await self._set_up_callback(resource, url)

    async def _set_up_callback(self, resource: Resource, url: str) -> None:
        """IMP's address as the community's Callback API server, with the secret VK sends on
        every call, told to send new messages and button presses."""
        api = self.resource_api(resource)
        config = resource.channel_config
        group_id = config["group_id"]
        found = await api.call("groups.getCallbackServers", group_id=group_id)
        server = next(
            (s for s in found.get("items", []) if s.get("url") == url or s.get("title") == "IMP"),
            None,
        )
        if server is None:
            added = await api.call(
                "groups.addCallbackServer",
                group_id=group_id,
                url=url,
                title="IMP",
                secret_key=config["secret"],
            )
            server_id = added["server_id"]
        else:
            server_id = server["id"]
            await api.call(
                "groups.editCallbackServer",
                group_id=group_id,
                server_id=server_id,
                url=url,
                title="IMP",
                secret_key=config["secret"],
            )
        await api.call(
            "groups.setCallbackSettings",
            group_id=group_id,
            server_id=server_id,
            api_version=API_VERSION,
            message_new=1,
            message_event=1,
        )

    async def _set_up_long_poll(self, resource: Resource) -> None:
        await self.resource_api(resource).call(
            "groups.setLongPollSettings",
            group_id=resource.channel_config["group_id"],
            enabled=1,
            api_version=API_VERSION,
            message_new=1,
            message_event=1,
        )

    async def _poll(self, resource_id: int) -> None:
        server: dict[str, Any] | None = None
        backoff = Backoff()
        while True:
            resource = await still_receiving(self.services, resource_id)
            if resource is None:
                return
            try:
                if server is None:
                    server = await self.resource_api(resource).call(
                        "groups.getLongPollServer", group_id=resource.channel_config["group_id"]
                    )
                assert server is not None
                response = await self.http.get(
                    str(server["server"]),
                    params={
                        "act": "a_check",
                        "key": server["key"],
                        "ts": server["ts"],
                        "wait": POLL_WAIT,
                    },
                    timeout=POLL_WAIT + 10,
                )
                response.raise_for_status()
                answer = response.json()
                if not isinstance(answer, dict):
                    raise ValueError(f"the Long Poll server answered {type(answer).__name__}")
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("VK long polling of resource %s failed: %s", resource_id, exc)
                server = None if isinstance(exc, VkError) else server
                await backoff.wait()
                continue
            if "failed" in answer:
                # 1: events were lost past this point, go on from the new ts; 2, 3: the key
                # ran out or the server forgot us, ask for a new one.
                if answer["failed"] == 1 and "ts" in answer:
                    server["ts"] = answer["ts"]
                else:
                    server = None
                continue
            for update in answer.get("updates") or []:
                try:
                    await self.handle(resource, update)
                except (SQLAlchemyError, OSError, httpx.HTTPError):
                    # Not the event's fault: poll the same events again (those already taken
                    # are known by their ids), as VK sends a refused callback again.
                    log.exception(
                        "VK event %s of resource %s could not be stored; trying again",
                        update.get("event_id") if isinstance(update, dict) else None,
                        resource_id,
                    )
                    await backoff.wait()
                    break
                except Exception:
                    log.exception("VK event of resource %s failed", resource_id)
            else:
                server["ts"] = answer.get("ts", server["ts"])

    async def stop(self) -> None:
        await self.receivers.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
