"""A widget visitor for tests: talks to the public widget API like the iframe does."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from impserver.channels.widget.visitors import SOCKET_PROTOCOL
from impserver.core.clock import utcnow
from impserver.domains.requests.models import STATUS_CHOOSING, ClientRequest
from impserver.domains.rooms.models import Message
from tests.harness import Endpoint, LiveServer, Socket


def demo_site(server: Endpoint) -> dict[str, Any]:
    admin = server.login("admin")
    return next(
        r for r in admin.http.get("/api/admin/resources").json() if r["name"] == "Demo website"
    )


@dataclass
class Visitor:
    server: Endpoint
    http: httpx.Client
    session: dict[str, Any]

    @property
    def token(self) -> str:
        return str(self.session["visitor_token"])

    def send(self, body: str, **extra: Any) -> httpx.Response:
        return self.http.post("/api/widget/messages", json={"body": body, **extra})

    def pick(self, queue_id: int) -> httpx.Response:
        return self.http.post("/api/widget/topic", json={"queue_id": queue_id})

    def conversation(self) -> dict[str, Any]:
        response = self.http.get("/api/widget/conversation")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    @contextmanager
    def socket(self, last_event_id: int | None = None) -> Iterator[Socket]:
        with connect(
            f"{self.server.ws_url}/widget",
            subprotocols=[Subprotocol(SOCKET_PROTOCOL), Subprotocol(self.token)],
            open_timeout=10,
        ) as ws:
            socket = Socket(ws)
            socket.send({"type": "hello", "last_event_id": last_event_id})
            socket.ready = socket.receive_until(lambda f: f.get("type") == "ready")
            yield socket


def visit(
    server: Endpoint,
    *,
    key: str | None = None,
    token: str | None = None,
    origin: str = "http://shop.example",
    language: str = "ru",
    name: str = "",
    address: str | None = None,
) -> Visitor:
    key = key or demo_site(server)["public_key"]
    http = server.client(address)
    response = http.post(
        "/api/widget/session",
        json={
            "public_key": key,
            "visitor_token": token,
            "page_url": f"{origin}/catalog",
            "embedding_origin": origin,
            "language": language,
            "name": name,
        },
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"},
    )
    assert response.status_code == 200, response.text
    session = response.json()
    http.headers["Authorization"] = f"Bearer {session['visitor_token']}"
    return Visitor(server, http, session)


def frames_of(socket: Socket, event_type: str) -> list[dict[str, Any]]:
    return [f for f in socket.seen if f.get("type") == event_type]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def topic_time_runs_out(server: LiveServer, client_text: str) -> None:
    """The topic choice of the request a client opened with ``client_text`` is due now, as if
    its time had passed: the server's timers move it as they would have. Tests give the choice
    a long time and end it here, so that a busy machine never ends it before they look."""

    async def expire() -> None:
        async with server.services.db.transaction() as uow:
            rooms = select(Message.room_id).where(Message.body == client_text)
            await uow.session.execute(
                update(ClientRequest)
                .where(ClientRequest.room_id.in_(rooms), ClientRequest.status == STATUS_CHOOSING)
                .values(topic_due_at=utcnow())
            )

    server.run(expire())


def identity_secret(server: Endpoint) -> str:
    """The demo website's identity secret, as an administrator reads it."""
    admin = server.login("admin")
    site = demo_site(server)
    response = admin.http.get(f"/api/admin/resources/{site['id']}/identity-secret")
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


def identity_hash(secret: str, user_id: str) -> str:
    """What the site's server computes for IMP.setUser: HMAC-SHA256 of the id, in hex."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def set_user(visitor: Visitor, **user: Any) -> dict[str, Any]:
    """IMP.setUser as the widget passes it on; a visitor who becomes another client (the one
    the site vouched for) carries on with that client's token, as the widget does."""
    response = visitor.http.post("/api/widget/identity", json=user)
    assert response.status_code == 200, response.text
    outcome: dict[str, Any] = response.json()
    if outcome["session"] is not None:
        visitor.session = outcome["session"]
        visitor.http.headers["Authorization"] = f"Bearer {visitor.token}"
    return outcome
