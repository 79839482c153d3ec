"""A widget visitor for tests: talks to the public widget API like the iframe does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from impserver.channels.widget.visitors import SOCKET_PROTOCOL
from tests.harness import Endpoint, Socket


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
