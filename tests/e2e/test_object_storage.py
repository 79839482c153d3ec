"""Files shared by two instances through S3-compatible object storage, seen in real browsers: a
client sends a picture from the widget served by one instance, and the employee opens it in the
workspace served by the other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from impserver.demo import seed_demo
from tests.e2e.conftest import WEB_DIST
from tests.e2e.test_widget_requests import accept_from_queue, client_says, open_widget
from tests.harness import LiveServer, PostgresDatabase, free_port, server_settings
from tests.s3_server import S3Server

# A 2×2 PNG, so the browser has something to decode and lay out.
PICTURE = bytes.fromhex(
    "89504e470d0a1a0a0000000d494844520000000200000002080600000072"
    "b60d240000001149444154789c63f8cfc0f01f8419600c0047ca07f96759"
    "6eb70000000049454e44ae426082"
)


@pytest.fixture(params=["stream", "redirect"])
def instances(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_database: PostgresDatabase,
    s3: S3Server,
) -> Iterator[tuple[LiveServer, LiveServer, str]]:
    bucket = s3.new_bucket()
    settings = server_settings(
        tmp_path,
        postgres_database,
        web_dist=WEB_DIST,
        ws_ping_seconds=20.0,
        ws_dead_after_seconds=60.0,
        **s3.settings(bucket, files_download=request.param),
    )
    servers = []
    for _ in range(2):
        port = free_port()
        own = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
        servers.append(LiveServer(own, port).start())
    first, second = servers
    try:
        first.run(seed_demo(first.services, site_origin=first.base_url, language="en"))
        yield first, second, bucket
    finally:
        first.stop()
        second.stop()


def expect_decoded(image: Locator) -> None:
    """The picture arrived whole and the browser drew it (its 2 pixels of width). Polled: the
    page may first show a local preview and then the copy it fetched."""
    expect(image).to_have_js_property("complete", True)
    expect(image).to_have_js_property("naturalWidth", 2)


def test_a_picture_from_the_widget_opens_in_the_workspace_of_the_other_instance(
    instances: tuple[LiveServer, LiveServer, str],
    s3: S3Server,
    new_context: Callable[..., BrowserContext],
) -> None:
    first, second, bucket = instances
    _, frame = open_widget(first, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Сломалась дверца")
    anna = log_in(new_context, second, "anna")
    accept_from_queue(anna, "Сломалась дверца")

    frame.get_by_label("Прикрепить файл").set_input_files(
        files=[{"name": "дверца.png", "mimeType": "image/png", "buffer": PICTURE}]
    )
    client_says(frame, "Вот фото")
    own_copy = frame.get_by_role("img", name="дверца.png")
    expect(own_copy).to_be_visible()
    # The widget fetched it through its own instance (from the bucket).
    expect_decoded(own_copy)

    history = anna.get_by_role("log", name="История сообщений")
    message = history.get_by_role("article").filter(has_text="Вот фото")
    picture = message.get_by_role("img", name="дверца.png")
    expect(picture).to_be_visible()
    expect_decoded(picture)
    # The viewer opens the picture itself, which downloads whole.
    message.get_by_role("button", name="Открыть картинку дверца.png").click()
    viewer = anna.get_by_role("dialog", name="дверца.png")
    href = viewer.get_by_role("link", name="Скачать").get_attribute("href")
    assert href is not None
    opened = anna.request.get(f"{second.base_url}{href}")
    assert opened.status == 200 and opened.body() == PICTURE

    # The picture and its thumbnail, in the bucket only.
    assert sorted(s3.body(bucket, key) == PICTURE for key in s3.keys(bucket)) == [False, True]
    for server in (first, second):
        assert not server.settings.resolved_files_path.exists()


def log_in(new_context: Callable[..., BrowserContext], server: LiveServer, login: str) -> Page:
    page = new_context(locale="ru-RU").new_page()
    page.goto(f"{server.base_url}/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(f"{login}-demo")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page
