"""A local server speaking the VK API's wire format, for tests (there is no internet).

It implements what IMP uses: API methods (POST /method/<name>, form-encoded, a community token
as Bearer or access_token; answers {"response": …} or {"error": {"error_code", "error_msg"}}),
the Callback API (confirmation of a server, events POSTed with the secret key, "ok" expected),
the Bots Long Poll API (act=a_check), upload servers for photos and documents, and the files
of clients' messages. It refuses what VK refuses: unknown tokens (5), a community token without
the right to manage (15), messages to users who never wrote (901), and, on demand, too many
requests (6). Tests play the VK user through its methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.channels.fake_server import FakeServer

API_VERSION = "5.199"
REFUSALS = {
    6: "Too many requests per second",
    9: "Flood control",
    10: "Internal server error",
    901: "Can't send messages for users without permission",
}


@dataclass
class FakeCommunity:
    token: str
    id: int
    name: str
    screen_name: str
    confirmation_code: str = "a1b2c3d4"
    # Without "manage", the token may not read the confirmation code or set up servers.
    may_manage: bool = True
    callback_servers: list[dict[str, Any]] = field(default_factory=list)
    long_poll: dict[str, Any] = field(default_factory=dict)
    long_poll_key: str = "lp-key-1"
    ts: int = 1
    # (ts, event) for the Long Poll API.
    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class SentCall:
    token: str
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Upload:
    kind: str
    file_name: str
    content_type: str
    data: bytes


class FakeVk(FakeServer[SentCall]):
    messenger = "VK"

    def __init__(self) -> None:
        super().__init__()
        self.communities: dict[str, FakeCommunity] = {}
        self.users: dict[int, dict[str, Any]] = {}
        # Users who wrote to a community: it may write to them (VK's "allowed messages").
        self.allowed: set[tuple[int, int]] = set()
        # (method, a piece of its message text) -> error code: the first such call is refused.
        self.refuse_once: dict[tuple[str, str], int] = {}
        self.refused: list[SentCall] = []
        self.files: dict[str, bytes] = {}
        self.uploads: dict[str, Upload] = {}
        self.saved: dict[str, Upload] = {}
        self.callback_answers: list[tuple[int, str]] = []
        # VK is down: every API call is answered 502, as by its front servers.
        self.down = False
        # Every event users caused, so that a test can send one again as VK would.
        self.delivered: list[dict[str, Any]] = []
        self._ids = itertools.count(100)
        self._random_ids: dict[tuple[int, int], int] = {}
        self._confirming: set[asyncio.Future[None]] = set()
        self._new_event: asyncio.Condition | None = None

    def _on_loop(self) -> None:
        self._new_event = asyncio.Condition()

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/method/{method}", self._method)
        app.router.add_get("/method/{method}", self._method)
        app.router.add_get("/lp/{group_id}", self._long_poll)
        app.router.add_post("/upload/{kind}", self._upload)
        app.router.add_get("/files/{name}", self._file)

    # -- what tests do -------------------------------------------------------------------

    def add_community(
        self, token: str, group_id: int, name: str = "IMP Shop", screen_name: str = "impshop"
    ) -> FakeCommunity:
        community = FakeCommunity(token, group_id, name, screen_name)
        self.communities[token] = community
        return community

    def add_user(
        self,
        user_id: int,
        first_name: str = "Иван",
        last_name: str = "Петров",
        screen_name: str = "",
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "can_access_closed": True,
            "is_closed": False,
            **({"screen_name": screen_name} if screen_name else {}),
        }

    def callback_server(self, token: str) -> dict[str, Any] | None:
        servers = self.communities[token].callback_servers
        return servers[0] if servers else None

    def wait_confirmed(self, token: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.callback_server(token)
            if server and server["status"] == "ok":
                return server
            time.sleep(0.05)
        raise TimeoutError(f"callback server not confirmed: {self.callback_server(token)}")

    def _message(self, user_id: int, **content: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        return {
            "date": int(time.time()),
            "from_id": user_id,
            "id": message_id,
            "out": 0,
            "version": message_id,
            "attachments": [],
            "conversation_message_id": message_id - 90,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": user_id,
            "random_id": 0,
            "text": "",
            **content,
        }

    def user_sends(
        self, token: str, user_id: int, text: str = "", **content: Any
    ) -> dict[str, Any]:
        """A message from the user to the community; returns the event."""
        community = self.communities[token]
        if user_id not in self.users:
            self.add_user(user_id)
        self.allowed.add((community.id, user_id))
        message = self._message(user_id, text=text, **content)
        event = self._event(
            community,
            "message_new",
            {
                "message": message,
                "client_info": {
                    "button_actions": [
                        "text",
                        "vkpay",
                        "open_app",
                        "location",
                        "open_link",
                        "callback",
                        "intent_subscribe",
                        "intent_unsubscribe",
                    ],
                    "keyboard": True,
                    "inline_keyboard": True,
                    "carousel": True,
                    "lang_id": 0,
                },
            },
        )
        self._deliver(community, event)
        return event

    def user_starts(self, token: str, user_id: int) -> dict[str, Any]:
        """The "Start" button of a new dialog: a message with the start command."""
        return self.user_sends(token, user_id, "Начать", payload=json.dumps({"command": "start"}))

    def _file_url(self, name: str, data: bytes) -> str:
        key = f"{next(self._ids)}-{name}"
        self.files[key] = data
        return f"{self.base_url}/files/{key}"

    def user_sends_photo(self, token: str, user_id: int, data: bytes, caption: str = "") -> None:
        photo = {
            "album_id": -3,
            "date": int(time.time()),
            "id": next(self._ids),
            "owner_id": user_id,
            "access_key": "k3y",
            "sizes": [
                {"height": 75, "width": 56, "type": "s", "url": self._file_url("s.jpg", b"small")},
                {"height": 1280, "width": 960, "type": "z", "url": self._file_url("z.jpg", data)},
                {"height": 604, "width": 453, "type": "x", "url": self._file_url("x.jpg", b"mid")},
            ],
            "text": "",
            "has_tags": False,
        }
        self.user_sends(token, user_id, caption, attachments=[{"type": "photo", "photo": photo}])

    def user_sends_document(self, token: str, user_id: int, title: str, data: bytes) -> None:
        ext = title.rsplit(".", 1)[-1] if "." in title else ""
        doc = {
            "id": next(self._ids),
            "owner_id": user_id,
            "title": title,
            "size": len(data),
            "ext": ext,
            "date": int(time.time()),
            "type": 1,
            "url": self._file_url(title, data),
            "access_key": "d0c",
        }
        self.user_sends(token, user_id, "", attachments=[{"type": "doc", "doc": doc}])

    def user_sends_voice(self, token: str, user_id: int, data: bytes) -> None:
        voice = {
            "id": next(self._ids),
            "owner_id": user_id,
            "duration": 3,
            "waveform": [0, 5, 10, 5, 0],
            "link_ogg": self._file_url("voice.ogg", data),
            "link_mp3": self._file_url("voice.mp3", b"mp3"),
            "access_key": "v01",
        }
        self.user_sends(
            token, user_id, "", attachments=[{"type": "audio_message", "audio_message": voice}]
        )

    def user_presses(self, token: str, user_id: int, payload: Any) -> dict[str, Any]:
        """A callback button: a message_event with the button's payload."""
        community = self.communities[token]
        if isinstance(payload, str):
            payload = json.loads(payload)
        event = self._event(
            community,
            "message_event",
            {
                "user_id": user_id,
                "peer_id": user_id,
                "event_id": f"ev{next(self._ids):08x}",
                "payload": payload,
                "conversation_message_id": next(self._ids),
            },
        )
        self._deliver(community, event)
        return event

    def post_to_callback(
        self,
        token: str,
        event: dict[str, Any] | bytes,
        *,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """An event POSTed to the community's callback address as given (for refusal tests)."""
        server = self.callback_server(token)
        assert server is not None

        async def push() -> tuple[int, str]:
            body = (
                event
                if isinstance(event, bytes)
                else json.dumps(
                    {**event, **({"secret": secret} if secret is not None else {})}
                ).encode()
            )
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    server["url"],
                    data=body,
                    headers={"Content-Type": "application/json", **(headers or {})},
                ) as response,
            ):
                return response.status, await response.text()

        return self._in_loop(push())

    def sent_to(self, user_id: int, method: str = "messages.send") -> list[SentCall]:
        return [
            c
            for c in self.sent
            if c.method == method
            and str(c.params.get("user_id", c.params.get("peer_id"))) == str(user_id)
        ]

    def _shown(self, call: SentCall) -> object:
        return (call.method, call.params)

    def texts_to(self, user_id: int) -> list[str]:
        return [str(c.params.get("message", "")) for c in self.sent_to(user_id)]

    # -- delivering events -----------------------------------------------------------------

    def _event(self, community: FakeCommunity, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "group_id": community.id,
            "type": kind,
            "event_id": f"{next(self._ids):040x}",
            "v": API_VERSION,
            "object": body,
        }

    def _deliver(self, community: FakeCommunity, event: dict[str, Any]) -> None:
        self.delivered.append(event)
        server = next(
            (
                s
                for s in community.callback_servers
                if s["status"] == "ok" and s["settings"].get(event["type"]) == "1"
            ),
            None,
        )

        async def push() -> None:
            if server is not None:
                body = {**event, "secret": server["secret_key"]}
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(server["url"], json=body) as response,
                ):
                    self.callback_answers.append((response.status, await response.text()))
                return
            if (
                community.long_poll.get("enabled") != "1"
                or community.long_poll.get(event["type"]) != "1"
            ):
                return
            assert self._new_event is not None
            async with self._new_event:
                community.events.append((community.ts, event))
                community.ts += 1
                self._new_event.notify_all()

        self._in_loop(push())

    async def _confirm(self, community: FakeCommunity, server: dict[str, Any]) -> None:
        """As VK does once a server is added or changed: the confirmation request."""
        await asyncio.sleep(0.05)
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    server["url"], json={"type": "confirmation", "group_id": community.id}
                ) as response,
            ):
                answer = await response.text()
        except aiohttp.ClientError:
            answer = ""
        server["status"] = "ok" if answer == community.confirmation_code else "failed"

    # -- the API -----------------------------------------------------------------------------

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"response": result})

    @staticmethod
    def _error(code: int, message: str, params: dict[str, Any]) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "error_code": code,
                    "error_msg": message,
                    "request_params": [
                        {"key": k, "value": str(v)}
                        for k, v in params.items()
                        if k != "access_token"
                    ],
                }
            }
        )

    def _invalid(self, what: str, params: dict[str, Any]) -> web.Response:
        return self._error(
            100, f"One of the parameters specified was missing or invalid: {what}", params
        )

    async def _method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.down:
            self.refused.append(SentCall("", method, dict(request.query)))
            return web.Response(status=502, text="Bad Gateway")
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            params.update(dict(await request.post()))
        token = params.pop("access_token", "")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[7:]
        community = self.communities.get(str(token))
        if community is None:
            return self._error(5, "User authorization failed: invalid access_token (4).", params)
        if params.get("v") != API_VERSION:
            return self._error(8, "Invalid request: v is required", params)
        text = str(params.get("message", ""))
        refusal = next(
            (key for key in self.refuse_once if key[0] == method and key[1] in text), None
        )
        if refusal is not None:
            code = self.refuse_once.pop(refusal)
            self.refused.append(SentCall(str(token), method, params))
            return self._error(code, REFUSALS.get(code, "Unknown error occurred"), params)
        if "group_id" in params and method.startswith("groups.") and method != "groups.getById":
            if int(params["group_id"]) != community.id:
                return self._error(15, "Access denied: no access to this group", params)
            if not community.may_manage:
                return self._error(15, "Access denied: no access to call this method", params)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return self._error(3, "Unknown method passed", params)
        return await handler(community, params)

    async def _groups_getById(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        wanted = params.get("group_id") or params.get("group_ids")
        if wanted and str(wanted) not in (str(community.id), community.screen_name):
            return self._invalid("group_ids is undefined", params)
        group = {
            "id": community.id,
            "name": community.name,
            "screen_name": community.screen_name,
            "is_closed": 0,
            "type": "group",
            "photo_50": f"{self.base_url}/files/50.png",
        }
        return self._ok({"groups": [group], "profiles": []})

    async def _groups_getCallbackConfirmationCode(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        return self._ok({"code": community.confirmation_code})

    async def _groups_getCallbackServers(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        items = [
            {k: s[k] for k in ("id", "title", "creator_id", "url", "secret_key", "status")}
            for s in community.callback_servers
        ]
        return self._ok({"count": len(items), "items": items})

    async def _groups_addCallbackServer(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        server = {
            "id": len(community.callback_servers) + 1,
            "title": params.get("title", ""),
            "creator_id": 1,
            "url": params["url"],
            "secret_key": params.get("secret_key", ""),
            "status": "unconfigured",
            "settings": {},
        }
        community.callback_servers.append(server)
        self._confirming.add(asyncio.ensure_future(self._confirm(community, server)))
        return self._ok({"server_id": server["id"]})

    async def _groups_editCallbackServer(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        server = next(s for s in community.callback_servers if str(s["id"]) == params["server_id"])
        server.update(
            url=params["url"],
            title=params.get("title", ""),
            secret_key=params.get("secret_key", ""),
            status="unconfigured",
        )
        self._confirming.add(asyncio.ensure_future(self._confirm(community, server)))
        return self._ok(1)

    async def _groups_setCallbackSettings(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        server = next(s for s in community.callback_servers if str(s["id"]) == params["server_id"])
        server["settings"].update(
            {k: v for k, v in params.items() if k not in ("group_id", "server_id", "v")}
        )
        return self._ok(1)

    async def _groups_setLongPollSettings(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        community.long_poll.update({k: v for k, v in params.items() if k not in ("group_id", "v")})
        return self._ok(1)

    async def _groups_getLongPollServer(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        if community.long_poll.get("enabled") != "1":
            return self._invalid("long poll is disabled", params)
        return self._ok(
            {
                "key": community.long_poll_key,
                "server": f"{self.base_url}/lp/{community.id}",
                "ts": str(community.ts),
            }
        )

    async def _users_get(self, community: FakeCommunity, params: dict[str, Any]) -> web.Response:
        ids = [int(i) for i in str(params.get("user_ids", "")).split(",") if i]
        return self._ok([self.users[i] for i in ids if i in self.users])

    async def _messages_sendMessageEventAnswer(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        self.sent.append(SentCall(community.token, "messages.sendMessageEventAnswer", params))
        return self._ok(1)

    async def _messages_send(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        user_id = int(params.get("user_id") or params.get("peer_id") or 0)
        if "random_id" not in params:
            return self._invalid("random_id is a required parameter", params)
        if (community.id, user_id) not in self.allowed:
            return self._error(901, "Can't send messages for users without permission", params)
        if not params.get("message") and not params.get("attachment"):
            return self._invalid("message is empty or invalid", params)
        for item in filter(None, str(params.get("attachment", "")).split(",")):
            if item not in self.saved:
                return self._invalid(f"attachment {item} is invalid", params)
        # The same random_id from the same community to the same user is the same message.
        known = self._random_ids.get((user_id, int(params["random_id"])))
        if known is not None:
            return self._ok(known)
        message_id = next(self._ids)
        self._random_ids[(user_id, int(params["random_id"]))] = message_id
        self.sent.append(SentCall(community.token, "messages.send", params))
        return self._ok(message_id)

    async def _photos_getMessagesUploadServer(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        return self._ok(
            {
                "album_id": -3,
                "upload_url": f"{self.base_url}/upload/photo?gid={community.id}",
                "user_id": 0,
                "group_id": community.id,
            }
        )

    async def _docs_getMessagesUploadServer(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        kind = params.get("type", "doc")
        return self._ok({"upload_url": f"{self.base_url}/upload/{kind}?gid={community.id}"})

    async def _photos_saveMessagesPhoto(
        self, community: FakeCommunity, params: dict[str, Any]
    ) -> web.Response:
        upload = self.uploads.pop(json.loads(params["photo"])[0]["token"], None)
        if upload is None or upload.kind != "photo" or params.get("hash") != "h4sh":
            return self._invalid("photo is undefined", params)
        photo_id = next(self._ids)
        self.saved[f"photo-{community.id}_{photo_id}_s4ved"] = upload
        return self._ok(
            [
                {
                    "id": photo_id,
                    "owner_id": -community.id,
                    "access_key": "s4ved",
                    "album_id": -3,
                    "sizes": [],
                }
            ]
        )

    async def _docs_save(self, community: FakeCommunity, params: dict[str, Any]) -> web.Response:
        upload = self.uploads.pop(str(params.get("file")), None)
        if upload is None:
            return self._invalid("file is undefined", params)
        doc_id = next(self._ids)
        self.saved[f"doc-{community.id}_{doc_id}"] = upload
        doc = {
            "id": doc_id,
            "owner_id": -community.id,
            "title": params.get("title", upload.file_name),
            "size": len(upload.data),
            "ext": "",
            "url": "",
        }
        kind = "audio_message" if upload.kind == "audio_message" else "doc"
        return self._ok({"type": kind, kind: doc})

    async def _upload(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader) or not part.filename:
                continue
            token = f"up{next(self._ids)}"
            upload = Upload(
                kind, part.filename, part.headers.get("Content-Type", ""), await part.read()
            )
            if kind == "photo" and part.name == "photo":
                self.uploads[token] = upload
                return web.json_response(
                    {"server": 8000, "photo": json.dumps([{"token": token}]), "hash": "h4sh"}
                )
            if kind in ("doc", "audio_message") and part.name == "file":
                self.uploads[token] = upload
                return web.json_response({"file": token})
        return web.json_response({"error": "ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded"})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def _long_poll(self, request: web.Request) -> web.Response:
        group_id = int(request.match_info["group_id"])
        community = next(c for c in self.communities.values() if c.id == group_id)
        if (
            request.query.get("act") != "a_check"
            or request.query.get("key") != community.long_poll_key
        ):
            return web.json_response({"failed": 2})
        ts = int(request.query.get("ts", "0"))
        wait = min(float(request.query.get("wait", "0")), 2.0)
        assert self._new_event is not None
        if not [e for t, e in community.events if t >= ts] and wait:
            async with self._new_event:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_event.wait(), wait)
        updates = [e for t, e in community.events if t >= ts]
        return web.json_response({"ts": str(community.ts), "updates": updates})
