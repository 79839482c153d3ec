"""The workspace as a support team lives in it, in the Russian UI at 1366×768."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from impserver.demo import seed_demo
from tests.e2e.conftest import WEB_DIST
from tests.harness import LiveServer, free_port

LAPTOP = {"width": 1366, "height": 768}


# --- Demo data, contacts, blocking, room history, transfers and the request's actions ---------


@pytest.fixture
def russian_demo_server(settings_factory: object) -> Iterator[LiveServer]:
    """IMP with the demo data as `make run` seeds it: in the default language."""
    settings = settings_factory("sqlite", web_dist=WEB_DIST)  # type: ignore[operator]
    live = LiveServer(settings, free_port())
    live.settings.public_base_url = f"http://127.0.0.1:{live.port}"
    live.start()
    live.run(seed_demo(live.services, site_origin=live.settings.public_base_url))
    yield live
    live.stop()


def log_in_at(server: LiveServer, context: BrowserContext, login: str) -> Page:
    page = context.new_page()
    page.goto(f"{server.base_url}/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(f"{login}-demo")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_demo_data_speaks_russian_by_default(
    russian_demo_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    admin = log_in_at(russian_demo_server, new_context(locale="ru-RU", viewport=LAPTOP), "admin")
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Ресурсы").click()
    site = admin.get_by_role("article", name="Демо-сайт")
    for queue in ("Продажи", "Техническая поддержка", "Общие вопросы"):
        expect(site.get_by_text(queue, exact=True)).to_be_visible()
    admin.get_by_role("tab", name="Группы").click()
    expect(admin.get_by_text("Технические специалисты")).to_be_visible()

    admin.goto(russian_demo_server.base_url)
    admin.get_by_role("link", name="Сотрудники").click()
    expect(admin.get_by_text("Команда поддержки").first).to_be_visible()

    # The client on the demo site is offered the topics in Russian too.
    shop = new_context(locale="ru-RU", viewport=LAPTOP).new_page()
    shop.goto(f"{russian_demo_server.base_url}/demo")
    shop.get_by_role("button", name="Чат с поддержкой").click()
    frame = shop.frame_locator("#imp-widget-frame")
    expect(frame.get_by_role("button", name="Техническая поддержка")).to_be_visible()
    for english in ("Demo website", "Sales", "Technical support", "Support team"):
        expect(admin.get_by_text(english, exact=True)).to_have_count(0)
