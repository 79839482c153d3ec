"""A local server speaking the Telegram Bot API wire format, for tests (there is no internet).

It implements what IMP uses: getMe, getUpdates (long polling), setWebhook, deleteWebhook,
sendMessage, sendPhoto, sendDocument, getFile and file download, answerCallbackQuery; and it can
answer 429 with retry_after on demand. Tests play the Telegram user through its methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.channels.fake_server import FakeServer


@dataclass
class FakeBot:
    token: str
    id: int
    username: str
    first_name: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""


@dataclass
class SentCall:
    token: str
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float = field(default_factory=time.monotonic)


class FakeTelegram(FakeServer[SentCall]):
    messenger = "Telegram"

    def __init__(self) -> None:
        super().__init__()
        self.bots: dict[str, FakeBot] = {}
        # IMP loads its Telegram adapter (aiogram: seconds of CPU) when a bot first needs it,
        # once per process. Loaded here, outside any test's request and its client timeout: on
        # a busy machine the first bot connected in a test worker took longer than 15 s.
        importlib.import_module("impserver.channels.telegram.adapter")
        self.files: dict[str, tuple[str, bytes]] = {}
        # (method, a piece of its text) -> retry_after: the first such call is answered 429.
        self.refuse_once: dict[tuple[str, str], int] = {}
        self.refused: list[SentCall] = []
        self.webhook_responses: list[int] = []
        # Every update users sent, so that a test can send one again as Telegram would.
        self.delivered: list[dict[str, Any]] = []
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._new_update: asyncio.Condition | None = None

    def _on_loop(self) -> None:
        self._new_update = asyncio.Condition()

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)

    # -- what tests do -------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str = "imp_demo_bot", first_name: str = "IMP Demo"
    ) -> FakeBot:
        bot = FakeBot(token, int(token.split(":")[0]), username, first_name)
        self.bots[token] = bot
        return bot

    def _user(
        self, user_id: int, first_name: str, username: str, last_name: str = ""
    ) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            **({"last_name": last_name} if last_name else {}),
            "username": username,
            "language_code": "ru",
        }

    def _message(self, bot: FakeBot, user: dict[str, Any], **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {
                "id": user["id"],
                "type": "private",
                "first_name": user["first_name"],
                "username": user.get("username"),
            },
            "from": user,
            **content,
        }

    def user_sends(
        self,
        token: str,
        user_id: int,
        *,
        first_name: str = "Иван",
        last_name: str = "",
        username: str = "ivan",
        **content: Any,
    ) -> int:
        bot = self.bots[token]
        user = self._user(user_id, first_name, username, last_name)
        update = {
            "update_id": next(self._update_ids),
            "message": self._message(bot, user, **content),
        }
        self.delivered.append(update)
        self._deliver(bot, update)
        return int(update["update_id"])

    def user_sends_photo(self, token: str, user_id: int, data: bytes, caption: str = "") -> None:
        file_id = f"photo-{next(self._ids)}"
        self.files[file_id] = (f"photos/{file_id}.jpg", data)
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "width": 10,
                "height": 10,
                "file_size": len(data),
            }
        ]
        self.user_sends(token, user_id, photo=photo, **({"caption": caption} if caption else {}))

    def user_presses(self, token: str, user_id: int, data: str) -> None:
        bot = self.bots[token]
        user = self._user(user_id, "Иван", "ivan")
        update = {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._ids)),
                "from": user,
                "chat_instance": "1",
                "data": data,
                "message": self._message(bot, user, text="…"),
            },
        }
        self._deliver(bot, update)

    def sent_to(self, user_id: int, method: str | None = None) -> list[SentCall]:
        return [
            c
            for c in self.sent
            if str(c.params.get("chat_id")) == str(user_id)
            and (method is None or c.method == method)
        ]

    def _shown(self, call: SentCall) -> object:
        return (call.method, call.params)

    # -- delivery of updates ----------------------------------------------------------------

    def _deliver(self, bot: FakeBot, update: dict[str, Any]) -> None:
        async def push() -> None:
            if bot.webhook_url:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(
                        bot.webhook_url,
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": bot.webhook_secret},
                    ) as response,
                ):
                    self.webhook_responses.append(response.status)
                return
            assert self._new_update is not None
            async with self._new_update:
                bot.updates.append(update)
                self._new_update.notify_all()

        self._in_loop(push(), timeout=10)

    def post_to_webhook(self, token: str, update: dict[str, Any], secret: str) -> int:
        """Send an update to the bot's webhook with a chosen secret (for refusal tests)."""
        bot = self.bots[token]

        async def push() -> int:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    bot.webhook_url,
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                ) as response,
            ):
                return response.status

        return self._in_loop(push(), timeout=10)

    # -- the Bot API -------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    files[part.name] = await part.read()
                else:
                    params[part.name] = (await part.read()).decode()
        elif request.can_read_body:
            params.update(dict(await request.post()))
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "{[":
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params, files

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _method(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        bot = self.bots.get(token)
        if bot is None:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params, files = await self._params(request)
        # Uploaded files travel as multipart parts named in "attach://<part>" parameters.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                files[key] = files.pop(value[9:])
        text = str(params.get("text", params.get("caption", "")))
        refusal = next(
            (key for key in self.refuse_once if key[0] == method and key[1] in text), None
        )
        if refusal is not None:
            retry_after = self.refuse_once.pop(refusal)
            self.refused.append(SentCall(token, method, params, {}))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status=429,
            )
        if method == "getMe":
            return self._ok(
                {
                    "id": bot.id,
                    "is_bot": True,
                    "first_name": bot.first_name,
                    "username": bot.username,
                }
            )
        if method == "getUpdates":
            return self._ok(await self._get_updates(bot, params))
        if method == "setWebhook":
            bot.webhook_url = str(params.get("url", ""))
            bot.webhook_secret = str(params.get("secret_token", ""))
            return self._ok(True)
        if method == "deleteWebhook":
            bot.webhook_url = ""
            return self._ok(True)
        if method == "answerCallbackQuery":
            self.sent.append(SentCall(token, method, params, files))
            return self._ok(True)
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            self.sent.append(SentCall(token, method, params, files))
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": bot.id, "is_bot": True, "first_name": bot.first_name},
            }
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            elif method == "sendPhoto":
                message["photo"] = [
                    {"file_id": "sent", "file_unique_id": "sent", "width": 1, "height": 1}
                ]
            else:
                message["document"] = {"file_id": "sent", "file_unique_id": "sent"}
            return self._ok(message)
        if method == "getFile":
            file_id = str(params["file_id"])
            path, data = self.files[file_id]
            return self._ok(
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_size": len(data),
                    "file_path": path,
                }
            )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _get_updates(self, bot: FakeBot, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        assert self._new_update is not None
        bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
        if not bot.updates and timeout:
            async with self._new_update:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
        return [u for u in bot.updates if u["update_id"] >= offset]

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data)
        return web.Response(status=404)
