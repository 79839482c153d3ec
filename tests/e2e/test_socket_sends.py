"""The workspace sends messages over its socket, and over HTTP when the socket is down."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, WebSocket, WebSocketRoute, expect

from tests.api.test_rooms import new_room
from tests.e2e.test_rooms import history, open_employees, send
from tests.e2e.test_widget_requests import client_in_hands
from tests.harness import LiveServer

MESSAGE_POSTS = re.compile(r"/api/(rooms|requests)/\d+/(messages|notes)$")


@dataclass
class Traffic:
    """What one page sent: message posts over HTTP, and frames over its sockets."""

    posts: list[str] = field(default_factory=list)
    frames_sent: list[dict[str, Any]] = field(default_factory=list)
    frames_received: list[dict[str, Any]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        def on_request(request: Request) -> None:
            if request.method == "POST" and MESSAGE_POSTS.search(request.url):
                self.posts.append(request.url)

        def on_socket(socket: WebSocket) -> None:
            socket.on("framesent", lambda payload: self._keep(self.frames_sent, payload))
            socket.on("framereceived", lambda payload: self._keep(self.frames_received, payload))

        page.on("request", on_request)
        page.on("websocket", on_socket)

    @staticmethod
    def _keep(frames: list[dict[str, Any]], payload: str | bytes) -> None:
        if isinstance(payload, str):
            frames.append(json.loads(payload))

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames_sent if f.get("type") == kind]

    def acks(self) -> list[dict[str, Any]]:
        return [f for f in self.frames_received if f.get("type") == "ack"]


def watched_again(page: Page) -> Traffic:
    """Watch ``page`` from a reload on, so that its socket is seen from the start."""
    traffic = Traffic()
    traffic.watch(page)
    page.reload()
    page.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")
    return traffic


def test_a_room_message_and_a_reply_go_over_the_socket(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, boris = logged_in("anna"), logged_in("boris")
    room = new_room(app_server.login("anna"), "boris", name="Сокет")
    for page in (anna, boris):
        open_employees(page)
        page.get_by_role("navigation", name="Комнаты").get_by_role("link", name="Сокет").click()
    traffic = watched_again(anna)

    send(anna, "Через сокет")
    expect(history(boris).get_by_text("Через сокет")).to_be_visible()
    expect(history(anna).get_by_text("Через сокет")).to_be_visible()
    [command] = traffic.sent("room.send")
    assert (command["room_id"], command["body"]) == (room["id"], "Через сокет")
    assert [a["ref"] for a in traffic.acks()] == [command["ref"]]
    assert traffic.posts == []

    # A reply to a client: from the request's page to the client's widget.
    _, widget = client_in_hands(app_server, new_context, anna, "Где мой заказ?")
    traffic = watched_again(anna)
    anna.get_by_label("Сообщение", exact=True).fill("Уже в пути")
    anna.get_by_role("button", name="Отправить").click()
    expect(widget.get_by_text("Уже в пути")).to_be_visible()
    [reply] = traffic.sent("request.send")
    assert (reply["body"], reply["note"]) == ("Уже в пути", False)
    expect(history(anna).get_by_text("Уже в пути")).to_be_visible()
    assert [a["ref"] for a in traffic.acks()] == [reply["ref"]]
    assert traffic.posts == []


def test_with_the_socket_down_a_message_still_arrives_over_http(
    app_server: LiveServer, logged_in: Callable[..., Page]
) -> None:
    anna, boris = logged_in("anna"), logged_in("boris")
    new_room(app_server.login("anna"), "boris", name="Без сокета")
    open_employees(boris)
    boris.get_by_role("navigation", name="Комнаты").get_by_role("link", name="Без сокета").click()

    # Every socket Anna's page opens is closed at once: it never gets to the server.
    def refuse(socket: WebSocketRoute) -> None:
        socket.close()

    anna.route_web_socket(re.compile(r"/ws$"), refuse)
    traffic = Traffic()
    traffic.watch(anna)
    anna.reload()
    anna.get_by_role("link", name="Сотрудники").click()
    anna.get_by_role("navigation", name="Комнаты").get_by_role("link", name="Без сокета").click()
    send(anna, "По HTTP")
    expect(history(boris).get_by_text("По HTTP")).to_be_visible()
    expect(history(anna).get_by_text("По HTTP")).to_be_visible()
    assert len(traffic.posts) == 1 and "/api/rooms/" in traffic.posts[0]
    assert traffic.sent("room.send") == []
    assert anna.evaluate("() => window.__imp.realtime.state.value") != "connected"
