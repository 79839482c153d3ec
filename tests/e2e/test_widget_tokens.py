"""The visitor token stays out of addresses, so out of access logs, in the real widget."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from impserver.demo import seed_demo
from tests.e2e.conftest import WEB_DIST
from tests.e2e.test_widget_requests import client_says, open_widget
from tests.harness import LiveServer, free_port
from tests.pictures import picture

PNG = picture(8, 8)


@pytest.fixture
def server_log() -> Iterator[list[str]]:
    """Every line uvicorn logs, its access log (each request's address) and its WebSocket log
    included, at INFO as a server with access logging on writes them."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep(logging.INFO)
    loggers = [logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error", "")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def logging_server(settings_factory: Any) -> Iterator[LiveServer]:
    """The e2e server (see conftest.app_server) with uvicorn's access log on."""
    port = free_port()
    settings = settings_factory(
        "sqlite",
        web_dist=WEB_DIST,
        access_log=True,
        ws_ping_seconds=20.0,
        ws_dead_after_seconds=60.0,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    live = LiveServer(settings, port).start()
    live.run(seed_demo(live.services, site_origin=f"http://127.0.0.1:{port}", language="en"))
    yield live
    live.stop()


def test_the_visitor_token_appears_in_no_address_and_no_log(
    logging_server: LiveServer, new_context: Callable[..., BrowserContext], server_log: list[str]
) -> None:
    app_server = logging_server
    page, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    frame.locator("input[type=file]").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
    )
    client_says(frame, "Вот чек")
    picture = frame.locator("img[alt='receipt.png']")
    expect(picture).to_be_attached()
    widget = next(f for f in page.frames if "/widget/frame" in f.url)
    token = widget.evaluate(
        "() => Object.entries(localStorage).find(([k]) => k.startsWith('imp.visitor.'))[1]"
    )
    assert token and len(token) > 20
    # The socket is live (the widget shows no reconnection notice and got its ready frame).
    widget.wait_for_function("() => window.__impWidget?.realtime.state.value === 'connected'")
    # The picture is shown: fetched with the token in a header, displayed from memory. (Its
    # request is logged once answered: wait for that before reading the log.)
    expect(picture).to_have_attribute("src", re.compile(r"^blob:"))

    def requested() -> list[str]:
        return [line for line in server_log if "/api/widget/" in line or "/ws/widget" in line]

    deadline = time.monotonic() + 10
    while not any("/api/widget/files/" in line for line in requested()):
        assert time.monotonic() < deadline, server_log[-20:]
        time.sleep(0.05)
    assert any("/ws/widget" in line for line in requested()), server_log[-20:]
    assert [line for line in server_log if token in line] == []
