"""What the messenger browser tests share: a server talking to a fake messenger, logging in,
Administration's steps around connecting a resource, and an employee taking a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect

from impserver.demo import seed_demo
from tests.e2e.conftest import WEB_DIST
from tests.harness import LiveServer, free_port


def start_messenger_server(settings_factory: Any, **settings: object) -> LiveServer:
    """A live server with the demo data and the workspace, its messenger settings given (the
    API's address, the mode); its public address is its own, so that webhooks reach it."""
    port = free_port()
    live = LiveServer(
        settings_factory(
            "sqlite",
            web_dist=WEB_DIST,
            public_base_url=f"http://127.0.0.1:{port}",
            timer_interval_seconds=0.2,
            ws_ping_seconds=20.0,
            ws_dead_after_seconds=60.0,
            **settings,
        ),
        port,
    ).start()
    live.run(seed_demo(live.services, site_origin=live.base_url, language="en"))
    return live


def log_in(server: LiveServer, new_context: Callable[..., BrowserContext], login: str) -> Page:
    page = new_context(locale="ru-RU").new_page()
    page.goto(f"{server.base_url}/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(f"{login}-demo")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/queue")
    return page


def open_connect_dialog(admin: Page, button: str) -> Locator:
    """Administration's resources, and the dialog its button opens to connect a messenger."""
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Ресурсы").click()
    admin.get_by_role("button", name=button).click()
    return admin.get_by_role("dialog")


def add_queue_for_anna(admin: Page, card: Locator, queue: str) -> None:
    """A queue of the connected resource (its card in Administration), served by Anna."""
    card.get_by_role("button", name="Добавить очередь").click()
    admin.get_by_role("dialog").get_by_label("Название очереди").fill(queue)
    admin.get_by_role("dialog").get_by_role("button", name="Создать").click()
    admin.get_by_role("tab", name="Сотрудники").click()
    admin.locator("tr[data-login='anna']").get_by_role("button", name="Очереди").click()
    admin.get_by_role("dialog").get_by_label(queue).check()
    admin.get_by_role("dialog").get_by_role("button", name="Сохранить").click()
    expect(admin.get_by_role("dialog")).to_have_count(0)


def take(anna: Page, text: str, resource: str) -> None:
    """Anna takes the request whose card shows the client's text, from the named resource."""
    request = anna.get_by_role("listitem").filter(has_text=text)
    expect(request).to_contain_text(resource)
    request.get_by_role("button", name="Принять").click()
    anna.wait_for_url("**/requests/*")


def expect_contact(anna: Page, contact: str, messenger: str) -> None:
    """The client's card shows how to reach them in their messenger."""
    expect(
        anna.get_by_role("complementary", name="Клиент").get_by_role(
            "button", name=f"Изменить контакт {contact}"
        )
    ).to_contain_text(messenger)


def answer(anna: Page, text: str) -> None:
    anna.get_by_label("Сообщение", exact=True).fill(text)
    anna.get_by_role("button", name="Отправить").click()
