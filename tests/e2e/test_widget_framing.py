"""The browser itself refuses to show the chat inside a site the resource does not list."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.harness import LiveServer, free_port
from tests.widget import demo_site


@pytest.fixture
def shop(app_server: LiveServer) -> Iterator[int]:
    """A website of its own (another port, so another origin) whose page frames the chat."""
    key = demo_site(app_server)["public_key"]

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            origin = parse_qs(urlsplit(self.path).query).get("origin", [""])[0]
            frame = f"{app_server.base_url}/widget/frame?key={key}&lang=ru&origin={origin}"
            body = f'<!doctype html><title>Shop</title><iframe id="chat" src="{frame}"></iframe>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()
    server.server_close()


def test_only_listed_sites_can_frame_the_chat(
    app_server: LiveServer, shop: int, new_context: Callable[..., BrowserContext]
) -> None:
    # One local website reached under two names: two origins, only one of them listed.
    listed, unlisted = f"http://localhost:{shop}", f"http://127.0.0.1:{shop}"
    site = demo_site(app_server)
    app_server.login("admin").http.patch(
        f"/api/admin/resources/{site['id']}", json={"site_origins": [listed]}
    )
    page = new_context(locale="ru-RU").new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    page.goto(f"{listed}/?origin={listed}")
    chat = page.frame_locator("#chat")
    # The chat works as a third party too: this browser denies it storage there.
    chat.get_by_label("Сообщение").fill("Добрый день")
    chat.get_by_role("button", name="Отправить").click()
    expect(chat.get_by_text("Добрый день")).to_be_visible()
    assert not [text for text in console if "frame-ancestors" in text]

    page.goto(f"{unlisted}/?origin={unlisted}")
    page.wait_for_timeout(1500)
    assert any("frame-ancestors" in text for text in console), console
    expect(page.frame_locator("#chat").get_by_label("Сообщение")).to_have_count(0)
