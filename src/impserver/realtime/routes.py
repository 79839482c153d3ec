"""Where realtime sockets enter: the employees' socket (one per workspace tab, authenticated by
the session cookie) and the dispatch that takes every socket straight to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

from fastapi import WebSocket
from starlette.types import ASGIApp, Receive, Scope, Send

from impserver.core.http import origin_netloc
from impserver.domains.accounts.auth import SESSION_COOKIE, authenticate_token
from impserver.realtime.events import employee_key
from impserver.realtime.gateway import Connection
from impserver.services import Services

SocketHandler = Callable[[WebSocket, Services], Awaitable[None]]


class SocketEndpoints:
    """Sends realtime sockets to their handlers past the HTTP middleware and router.

    A socket stays open for hours. Served through the whole HTTP stack it would keep every
    middleware's and the router's suspended frames and exit stacks alive for as long, about 8 KB
    a socket, with nothing in them that applies to it: a socket checks its own origin and
    credentials, and its refusals are frames and close codes, not HTTP responses.
    """

    def __init__(self, app: ASGIApp, handlers: Mapping[str, SocketHandler]) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.handlers.get(scope["path"]) if scope["type"] == "websocket" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        services: Services = scope["app"].state.services
        await handler(WebSocket(scope, receive, send), services)


def same_origin(websocket: WebSocket, public_base_url: str) -> bool:
    """Refuse sockets opened by other sites' pages (cross-site WebSocket hijacking)."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser page: no ambient-cookie risk
    origin_host = origin_netloc(origin)
    allowed = {websocket.headers.get("host", "").lower(), urlsplit(public_base_url).netloc.lower()}
    return origin_host in allowed


async def employee_socket(websocket: WebSocket, services: Services) -> None:
    await websocket.accept()
    if not same_origin(websocket, services.settings.public_base_url):
        await websocket.close(4403, "origin not allowed")
        return
    auth = await authenticate_token(services, websocket.cookies.get(SESSION_COOKIE))
    if auth is None:
        await websocket.send_json({"type": "closed", "reason": "not_authenticated"})
        await websocket.close(4401, "not authenticated")
        return
    connection = Connection(
        websocket=websocket,
        recipient=employee_key(auth.employee.id),
        session_token_hash=auth.token_hash,
        session_expires_at=auth.expires_at.timestamp(),
        employee_id=auth.employee.id,
    )
    await services.gateway.serve(connection)
