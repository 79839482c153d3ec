"""The busiest endpoints (sending a message) served past FastAPI's routing and dependencies.

A send is one small JSON body, a login and one action; FastAPI's route matching over every
route of the API, its dependency resolution and its response validation cost more CPU than the
rest of the HTTP path together. A lean route answers the ordinary send with the same action and
the same JSON, and hands everything unusual back to the full stack, which answers it exactly as
before: a body that does not parse or validate (FastAPI's detailed 422), a body that is not
JSON, one over the size limit. The FastAPI route stays the documented one (OpenAPI) and serves
those cases; both call the same action.

Only what comes before the action may be handed back: once the action has run, its answer or
its error (through ``error_response``, as the application's handlers give it) is final.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from impserver.core.errors import error_response
from impserver.core.http import MAX_JSON_BODY_BYTES

_Body = TypeVar("_Body", bound=BaseModel)


class HandBack(Exception):
    """Raised by a lean handler, before its action, for a request the full stack answers."""


@dataclass
class LeanCall:
    """One request on a lean route: what a handler reads, and how it answers."""

    request: Request
    ids: dict[str, int]
    raw_body: bytes

    @property
    def services(self) -> Any:
        return self.request.app.state.services

    def body(self, model: type[_Body]) -> _Body:
        try:
            return model.model_validate_json(self.raw_body)
        except ValidationError:
            # FastAPI's own answer names each wrong field in its format: let it give it.
            raise HandBack from None

    @staticmethod
    def json(model: BaseModel, status_code: int) -> Response:
        return Response(model.model_dump_json(), status_code, media_type="application/json")


LeanHandler = Callable[[LeanCall], Awaitable[Response]]


@dataclass(frozen=True)
class _RouteName:
    """What request metrics label the answer with (``route_template`` reads ``path``)."""

    path: str


@dataclass(frozen=True)
class LeanRoute:
    method: str
    path: str  # a template of the FastAPI route it stands in for: /api/rooms/{room_id}/messages
    handler: LeanHandler

    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"\{(\w+)\}", self.path)
        regex = "".join(
            f"(?P<{part}>[0-9]{{1,10}})" if i % 2 else re.escape(part)
            for i, part in enumerate(parts)
        )
        return re.compile(regex)


class LeanRoutes:
    """ASGI middleware that serves the lean routes and passes every other request on."""

    def __init__(self, app: ASGIApp, routes: list[LeanRoute]) -> None:
        self.app = app
        self.routes = [(route, route.pattern(), _RouteName(route.path)) for route in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            for route, pattern, name in self.routes:
                matched = pattern.fullmatch(path)
                if matched is not None and route.method == "POST":
                    await self._serve(route, name, matched.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(
        self,
        route: LeanRoute,
        name: _RouteName,
        ids: Mapping[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        request = Request(scope, receive)
        content_type = request.headers.get("content-type", "")
        chunks: list[bytes] = []
        more = True
        if content_type.split(";")[0].strip().lower() == "application/json":
            size = 0
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    await self.app(scope, _replay(chunks, more, receive, message), send)
                    return
                chunk = message.get("body", b"")
                chunks.append(chunk)
                size += len(chunk)
                more = message.get("more_body", False)
                if size > MAX_JSON_BODY_BYTES:
                    break
            if not more:
                call = LeanCall(request, {k: int(v) for k, v in ids.items()}, b"".join(chunks))
                try:
                    response = await route.handler(call)
                except HandBack:
                    pass
                except Exception as exc:
                    answer = error_response(exc)
                    if answer is None:
                        raise
                    scope["route"] = name
                    await answer(scope, receive, send)
                    return
                else:
                    scope["route"] = name
                    await response(scope, receive, send)
                    return
        await self.app(scope, _replay(chunks, more, receive), send)


def _replay(
    chunks: list[bytes], more: bool, receive: Receive, pending: Message | None = None
) -> Receive:
    """``receive`` as if nothing had been read: the body read so far comes first (``more``:
    whether the rest of it is still to come), then ``pending``, then what is still to come."""
    queued: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    if queued and not more:
        queued[-1]["more_body"] = False
    if pending is not None:
        queued.append(pending)

    async def replayed() -> Message:
        if queued:
            return queued.pop(0)
        return await receive()

    return replayed
