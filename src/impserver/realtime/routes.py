"""The employees' WebSocket: one per workspace tab, authenticated by the session cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, WebSocket

from impserver.domains.accounts.auth import SESSION_COOKIE, authenticate_token
from impserver.realtime.events import employee_key
from impserver.realtime.gateway import Connection
from impserver.services import Services, get_ws_services

router = APIRouter()


def same_origin(websocket: WebSocket, public_base_url: str) -> bool:
    """Refuse sockets opened by other sites' pages (cross-site WebSocket hijacking)."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser page: no ambient-cookie risk
    origin_host = urlsplit(origin).netloc.lower()
    allowed = {websocket.headers.get("host", "").lower(), urlsplit(public_base_url).netloc.lower()}
    return origin_host in allowed


@router.websocket("/ws")
async def employee_socket(
    websocket: WebSocket, services: Services = Depends(get_ws_services)
) -> None:
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
