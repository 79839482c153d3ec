"""A local server speaking the WhatsApp Cloud API's wire format (Meta's Graph API), for tests.

It implements what IMP uses: reading a phone number and a business account's message
templates, subscribing the app to the account, sending messages (text, media, interactive
buttons and lists, templates), uploading media, the media URL of a client's file and its
download; and Meta's side of the webhook: the verification request (hub.challenge) and
notifications signed with the app secret (X-Hub-Signature-256). It refuses what Meta refuses:
unknown tokens (190), a wrong appsecret_proof (100), unknown ids (100/33), templates with the
wrong parameters (132000), and, on demand, rate limits (130429). Past the 24-hour window a free
message is taken and then reported failed (131047) by a status notification, as Meta does.
Tests play the WhatsApp user through its methods.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.channels.fake_server import FakeServer

VERSION = "v21.0"
WINDOW_SECONDS = 24 * 3600


@dataclass
class FakeNumber:
    phone_number_id: str
    business_account_id: str
    token: str
    app_secret: str
    display_phone_number: str = "+7 495 123-45-67"
    verified_name: str = "IMP Shop"
    templates: list[dict[str, Any]] = field(default_factory=list)
    subscribed: bool = False
    webhook_url: str = ""
    # Users' last messages (unix time): the window Meta keeps.
    last_from: dict[str, int] = field(default_factory=dict)


@dataclass
class SentCall:
    path: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    wamid: str = ""


STANDARD_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "order_update",
        "language": "ru",
        "status": "APPROVED",
        "category": "UTILITY",
        "id": "1001",
        "components": [
            {"type": "BODY", "text": "Здравствуйте, {{1}}! По вашему обращению: {{2}}"},
            {"type": "FOOTER", "text": "Магазин IMP"},
        ],
    },
    {
        "name": "hello_world",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "id": "1002",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {"type": "BODY", "text": "Welcome and congratulations!!"},
        ],
    },
    {
        "name": "spring_sale",
        "language": "ru",
        "status": "APPROVED",
        "category": "MARKETING",
        "id": "1003",
        "components": [
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Весенняя распродажа!"},
        ],
    },
    {
        "name": "not_yet",
        "language": "ru",
        "status": "PENDING",
        "category": "UTILITY",
        "id": "1004",
        "components": [{"type": "BODY", "text": "Ещё на проверке"}],
    },
]


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class FakeWhatsApp(FakeServer[SentCall]):
    messenger = "WhatsApp"
    # Meta takes media up to 100 MB.
    largest_body = 120 * 1024 * 1024

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[str, FakeNumber] = {}
        self.media: dict[str, tuple[str, str, bytes]] = {}
        # A piece of a text -> error code: the first message with it is refused.
        self.refuse_once: dict[str, int] = {}
        self.refused: list[SentCall] = []
        # Users whose phones cannot take messages: taken, then reported failed (131026).
        self.undeliverable: set[str] = set()
        self.down = False
        self.webhook_answers: list[int] = []
        self.delivered: list[bytes] = []
        self._ids = itertools.count(1)
        self._pending: set[asyncio.Future[Any]] = set()

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get(f"/{VERSION}/{{node}}", self._get_node)
        app.router.add_get(f"/{VERSION}/{{node}}/message_templates", self._templates)
        app.router.add_post(f"/{VERSION}/{{node}}/subscribed_apps", self._subscribe)
        app.router.add_post(f"/{VERSION}/{{node}}/messages", self._messages)
        app.router.add_post(f"/{VERSION}/{{node}}/media", self._upload)
        app.router.add_get("/whatsapp_business/attachments/{media_id}", self._download)

    # -- what tests do (the business's app settings, and the WhatsApp user) ----------------

    def add_number(
        self, phone_number_id: str, business_account_id: str, token: str, app_secret: str
    ) -> FakeNumber:
        number = FakeNumber(
            phone_number_id,
            business_account_id,
            token,
            app_secret,
            templates=[dict(t) for t in STANDARD_TEMPLATES],
        )
        self.numbers[phone_number_id] = number
        return number

    def configure_webhook(self, phone_number_id: str, url: str, verify_token: str) -> bool:
        """What the administrator does in the app's settings: Meta calls the address with a
        challenge, and keeps it only if the challenge comes back."""
        number = self.numbers[phone_number_id]
        challenge = str(secrets.randbelow(10**9))

        async def verify() -> bool:
            params = {
                "hub.mode": "subscribe",
                "hub.challenge": challenge,
                "hub.verify_token": verify_token,
            }
            async with aiohttp.ClientSession() as session, session.get(url, params=params) as r:
                return r.status == 200 and await r.text() == challenge

        if self._in_loop(verify()):
            number.webhook_url = url
            return True
        return False

    def _notify(self, number: FakeNumber, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": number.business_account_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": re.sub(
                                        r"\D", "", number.display_phone_number
                                    ),
                                    "phone_number_id": number.phone_number_id,
                                },
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def user_sends(
        self,
        phone_number_id: str,
        wa_id: str,
        kind: str = "text",
        content: dict[str, Any] | None = None,
        *,
        name: str = "Иван Петров",
        sent_at: float | None = None,
    ) -> dict[str, Any]:
        """A message of the user's to the business; returns the notification Meta sent."""
        number = self.numbers[phone_number_id]
        timestamp = int(sent_at if sent_at is not None else time.time())
        number.last_from[wa_id] = max(number.last_from.get(wa_id, 0), timestamp)
        message = {
            "from": wa_id,
            "id": f"wamid.HBgL{wa_id}FQIAEhgU{secrets.token_hex(10).upper()}AA==",
            "timestamp": str(timestamp),
            "type": kind,
            kind: content or {},
        }
        notification = self._notify(
            number,
            {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]},
        )
        self.deliver(phone_number_id, notification)
        return notification

    def user_writes(self, phone_number_id: str, wa_id: str, text: str, **kw: Any) -> dict[str, Any]:
        return self.user_sends(phone_number_id, wa_id, "text", {"body": text}, **kw)

    def _media_id(self, name: str, content_type: str, data: bytes) -> str:
        media_id = str(next(self._ids) + 9_000_000)
        self.media[media_id] = (name, content_type, data)
        return media_id

    def user_sends_media(
        self,
        phone_number_id: str,
        wa_id: str,
        kind: str,
        data: bytes,
        content_type: str,
        *,
        caption: str = "",
        filename: str = "",
        voice: bool = False,
    ) -> dict[str, Any]:
        content: dict[str, Any] = {
            "mime_type": content_type,
            "sha256": hashlib.sha256(data).hexdigest(),
            "id": self._media_id(filename or kind, content_type, data),
        }
        if caption:
            content["caption"] = caption
        if filename:
            content["filename"] = filename
        if kind == "audio":
            content["voice"] = voice
        return self.user_sends(phone_number_id, wa_id, kind, content)

    def user_chooses(
        self, phone_number_id: str, wa_id: str, reply_id: str, title: str, kind: str
    ) -> dict[str, Any]:
        """A reply button ("button_reply") or a list row ("list_reply") the user tapped."""
        return self.user_sends(
            phone_number_id,
            wa_id,
            "interactive",
            {"type": kind, kind: {"id": reply_id, "title": title}},
        )

    def deliver(self, phone_number_id: str, notification: dict[str, Any]) -> int:
        """A notification sent to the configured webhook, signed as Meta signs it."""
        number = self.numbers[phone_number_id]
        body = json.dumps(notification).encode()
        self.delivered.append(body)
        status = self.post(
            number.webhook_url, body, {"X-Hub-Signature-256": sign(body, number.app_secret)}
        )
        self.webhook_answers.append(status)
        return status

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        async def push() -> int:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    url, data=body, headers={"Content-Type": "application/json", **headers}
                ) as response,
            ):
                return response.status

        result: int = self._in_loop(push())
        return result

    def sent_to(self, wa_id: str) -> list[SentCall]:
        return [c for c in self.sent if c.body.get("to") == wa_id]

    def _shown(self, call: SentCall) -> object:
        return call.body

    # -- the Graph API -------------------------------------------------------------------------

    @staticmethod
    def _error(
        status: int, code: int, message: str, kind: str = "OAuthException", **extra: Any
    ) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "message": message,
                    "type": kind,
                    "code": code,
                    **extra,
                    "fbtrace_id": "A" + secrets.token_hex(8),
                }
            },
            status=status,
        )

    def _caller(self, request: web.Request) -> tuple[FakeNumber | None, web.Response | None]:
        """The number whose token called, or the refusal: unknown token, wrong proof."""
        if self.down:
            return None, web.Response(status=503, text="Service Unavailable")
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else request.query.get("access_token", "")
        number = next((n for n in self.numbers.values() if n.token == token), None)
        if number is None:
            return None, self._error(
                401, 190, "Invalid OAuth access token - Cannot parse access token"
            )
        proof = request.query.get("appsecret_proof")
        expected = hmac.new(number.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and proof != expected:
            return None, self._error(
                400,
                100,
                "Invalid appsecret_proof provided in the API argument",
                "GraphMethodException",
            )
        return number, None

    def _unknown(self, node: str) -> web.Response:
        return self._error(
            400,
            100,
            f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.",
            "GraphMethodException",
            error_subcode=33,
        )

    async def _get_node(self, request: web.Request) -> web.Response:
        number, refusal = self._caller(request)
        if refusal is not None:
            return refusal
        assert number is not None
        node = request.match_info["node"]
        if node == number.phone_number_id:
            return web.json_response(
                {
                    "display_phone_number": number.display_phone_number,
                    "verified_name": number.verified_name,
                    "quality_rating": "GREEN",
                    "id": node,
                }
            )
        if node in self.media:
            _, content_type, data = self.media[node]
            return web.json_response(
                {
                    "url": f"{self.base_url}/whatsapp_business/attachments/{node}?mid={node}&ext=1",
                    "mime_type": content_type,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "file_size": len(data),
                    "id": node,
                    "messaging_product": "whatsapp",
                }
            )
        return self._unknown(node)

    async def _templates(self, request: web.Request) -> web.Response:
        number, refusal = self._caller(request)
        if refusal is not None:
            return refusal
        assert number is not None
        if request.match_info["node"] != number.business_account_id:
            return self._unknown(request.match_info["node"])
        wanted = request.query.get("status")
        found = [t for t in number.templates if not wanted or t["status"] == wanted]
        return web.json_response(
            {"data": found, "paging": {"cursors": {"before": "b", "after": "a"}}}
        )

    async def _subscribe(self, request: web.Request) -> web.Response:
        number, refusal = self._caller(request)
        if refusal is not None:
            return refusal
        assert number is not None
        if request.match_info["node"] != number.business_account_id:
            return self._unknown(request.match_info["node"])
        number.subscribed = True
        return web.json_response({"success": True})

    async def _upload(self, request: web.Request) -> web.Response:
        number, refusal = self._caller(request)
        if refusal is not None:
            return refusal
        assert number is not None
        fields: dict[str, str] = {}
        upload: tuple[str, str, bytes] | None = None
        async for part in await request.multipart():
            if not isinstance(part, aiohttp.BodyPartReader):
                continue
            if part.filename:
                upload = (
                    part.filename,
                    part.headers.get("Content-Type", ""),
                    bytes(await part.read()),
                )
            else:
                fields[str(part.name)] = await part.text()
        if (
            upload is None
            or fields.get("messaging_product") != "whatsapp"
            or not fields.get("type")
        ):
            return self._error(400, 100, "(#100) The parameter file is required.")
        media_id = self._media_id(upload[0], fields["type"], upload[2])
        return web.json_response({"id": media_id})

    async def _download(self, request: web.Request) -> web.Response:
        _, refusal = self._caller(request)
        if refusal is not None:
            return refusal
        found = self.media.get(request.match_info["media_id"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[2], content_type=found[1])

    async def _messages(self, request: web.Request) -> web.Response:
        number, refusal = self._caller(request)
        if refusal is not None:
            return refusal
        assert number is not None
        if request.match_info["node"] != number.phone_number_id:
            return self._unknown(request.match_info["node"])
        body = await request.json()
        to = str(body.get("to", ""))
        if body.get("messaging_product") != "whatsapp" or not to.isdigit():
            return self._error(400, 100, "(#100) Invalid parameter")
        text = json.dumps(body, ensure_ascii=False)
        refused = next((piece for piece in self.refuse_once if piece in text), None)
        if refused is not None:
            code = self.refuse_once.pop(refused)
            self.refused.append(SentCall(request.path, body))
            return self._error(
                400,
                code,
                f"(#{code}) Rate limit hit",
                error_data={
                    "messaging_product": "whatsapp",
                    "details": "Cloud API message throughput has been reached.",
                },
            )
        kind = body.get("type")
        if kind == "template":
            problem = self._template_problem(number, body.get("template") or {})
            if problem:
                return self._error(400, 132000, problem)
        elif kind in ("image", "document", "audio", "video"):
            media = body.get(kind) or {}
            if str(media.get("id")) not in self.media:
                return self._error(400, 131053, "Media upload error")
        elif kind == "interactive":
            problem = self._interactive_problem(body.get("interactive") or {})
            if problem:
                return self._error(
                    400, 131009, f"(#131009) Parameter value is not valid: {problem}"
                )
        elif kind != "text" or not (body.get("text") or {}).get("body"):
            return self._error(400, 100, "(#100) Invalid parameter")
        wamid = f"wamid.HBgL{to}FQIAERgS{secrets.token_hex(10).upper()}AA=="
        self.sent.append(SentCall(request.path, body, wamid=wamid))
        # Past the window a free message is taken, then reported failed.
        late = kind != "template" and time.time() - number.last_from.get(to, 0) > WINDOW_SECONDS
        if late or to in self.undeliverable:
            code, title = (
                (131047, "Re-engagement message") if late else (131026, "Message undeliverable")
            )
            self._pending.add(
                asyncio.ensure_future(self._report_failure(number, to, wamid, code, title))
            )
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    def _template_problem(self, number: FakeNumber, template: dict[str, Any]) -> str:
        found = next(
            (
                t
                for t in number.templates
                if t["name"] == template.get("name")
                and t["language"] == (template.get("language") or {}).get("code")
                and t["status"] == "APPROVED"
            ),
            None,
        )
        if found is None:
            return "(#132001) Template name does not exist in the translation"
        body = next((c for c in found["components"] if c["type"] == "BODY"), {"text": ""})
        expected = len(set(re.findall(r"\{\{(\d+)\}\}", body["text"])))
        given = [
            p
            for c in template.get("components") or []
            if c.get("type") == "body"
            for p in c.get("parameters") or []
        ]
        if len(given) != expected:
            return "(#132000) Number of parameters does not match the expected number of params"
        return ""

    @staticmethod
    def _interactive_problem(interactive: dict[str, Any]) -> str:
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            buttons = action.get("buttons") or []
            if not 1 <= len(buttons) <= 3:
                return "buttons"
            if any(len(b["reply"]["title"]) > 20 for b in buttons):
                return "button title"
        elif interactive.get("type") == "list":
            rows = [r for s in action.get("sections") or [] for r in s.get("rows") or []]
            if not 1 <= len(rows) <= 10 or len(action.get("button", "")) > 20:
                return "list"
            if any(len(r["title"]) > 24 for r in rows):
                return "row title"
        else:
            return "type"
        if not (interactive.get("body") or {}).get("text"):
            return "body"
        return ""

    async def _report_failure(
        self, number: FakeNumber, to: str, wamid: str, code: int, title: str
    ) -> None:
        await asyncio.sleep(0.2)
        notification = self._notify(
            number,
            {
                "statuses": [
                    {
                        "id": wamid,
                        "status": "failed",
                        "timestamp": str(int(time.time())),
                        "recipient_id": to,
                        "errors": [
                            {
                                "code": code,
                                "title": title,
                                "message": title,
                                "error_data": {"details": title},
                            }
                        ],
                    }
                ]
            },
        )
        body = json.dumps(notification).encode()
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                number.webhook_url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(body, number.app_secret),
                },
            ) as response,
        ):
            self.webhook_answers.append(response.status)
