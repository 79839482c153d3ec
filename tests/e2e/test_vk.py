"""An administrator connects a VK community and an employee answers a VK client in the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from impserver.demo import seed_demo
from tests.channels.fake_vk import FakeVk
from tests.e2e.conftest import WEB_DIST
from tests.harness import LiveServer, free_port

TOKEN = "vk1.a.e2e-community-token-0123456789abcdef"
GROUP = 777123
USER = 9001


@pytest.fixture
def vk() -> Iterator[FakeVk]:
    fake = FakeVk().start()
    fake.add_community(TOKEN, GROUP, name="Помощь магазина", screen_name="shop_help")
    fake.add_user(USER, "Мария", "Иванова", screen_name="maria_i")
    yield fake
    fake.stop()


@pytest.fixture
def server_with_vk(settings_factory: Any, vk: FakeVk) -> Iterator[LiveServer]:
    port = free_port()
    settings = settings_factory(
        "sqlite",
        web_dist=WEB_DIST,
        vk_api_url=vk.base_url,
        vk_mode="polling",
        public_base_url=f"http://127.0.0.1:{port}",
        timer_interval_seconds=0.2,
        ws_ping_seconds=20.0,
        ws_dead_after_seconds=60.0,
    )
    live = LiveServer(settings, port).start()
    live.run(seed_demo(live.services, site_origin=live.base_url, language="en"))
    yield live
    live.stop()


def log_in(server: LiveServer, new_context: Callable[..., BrowserContext], login: str) -> Page:
    page = new_context(locale="ru-RU").new_page()
    page.goto(f"{server.base_url}/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(f"{login}-demo")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/queue")
    return page


def test_connect_a_community_and_answer_a_vk_client(
    server_with_vk: LiveServer, vk: FakeVk, new_context: Callable[..., BrowserContext]
) -> None:
    admin = log_in(server_with_vk, new_context, "admin")
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Ресурсы").click()
    admin.get_by_role("button", name="Подключить сообщество ВКонтакте").click()
    dialog = admin.get_by_role("dialog")
    token = dialog.get_by_label("Ключ доступа сообщества (Управление → Работа с API)")
    token.fill("vk1.a.a-token-vk-does-not-know-000")
    dialog.get_by_label("ID сообщества").fill(f"club{GROUP}")
    dialog.get_by_role("button", name="Подключить").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "ВКонтакте не принял этот ключ доступа сообщества."
    )
    token.fill(TOKEN)
    dialog.get_by_label("ID сообщества").fill(str(GROUP + 1))
    dialog.get_by_role("button", name="Подключить").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        f"Этот ключ принадлежит другому сообществу ВКонтакте (ID {GROUP})."
    )
    dialog.get_by_label("ID сообщества").fill(f"club{GROUP}")
    dialog.get_by_label("Время выбора тематики, секунд").fill("0")
    dialog.get_by_role("button", name="Подключить").click()
    card = admin.get_by_role("article", name="Помощь магазина")
    expect(card).to_contain_text("Сообщество ВКонтакте")
    expect(card.get_by_role("link", name="vk.com/shop_help")).to_have_attribute(
        "href", "https://vk.com/shop_help"
    )
    card.get_by_role("button", name="Добавить очередь").click()
    admin.get_by_role("dialog").get_by_label("Название очереди").fill("ВК: вопросы")
    admin.get_by_role("dialog").get_by_role("button", name="Создать").click()
    admin.get_by_role("tab", name="Сотрудники").click()
    admin.locator("tr[data-login='anna']").get_by_role("button", name="Очереди").click()
    admin.get_by_role("dialog").get_by_label("ВК: вопросы").check()
    admin.get_by_role("dialog").get_by_role("button", name="Сохранить").click()
    expect(admin.get_by_role("dialog")).to_have_count(0)

    anna = log_in(server_with_vk, new_context, "anna")
    vk.user_starts(TOKEN, USER)
    vk.wait_for(lambda c: "Здравствуйте" in str(c.params.get("message")))
    vk.user_sends(TOKEN, USER, "Добрый день, где мой заказ?")
    request = anna.get_by_role("listitem").filter(has_text="Добрый день, где мой заказ?")
    expect(request).to_contain_text("Помощь магазина")
    request.get_by_role("button", name="Принять").click()
    anna.wait_for_url("**/requests/*")
    expect(anna.get_by_role("heading", name="Мария Иванова")).to_be_visible()
    expect(
        anna.get_by_role("complementary", name="Клиент").get_by_role(
            "button", name="Изменить контакт https://vk.com/maria_i"
        )
    ).to_contain_text("ВКонтакте")
    anna.get_by_label("Сообщение", exact=True).fill("Заказ уже в пути!")
    anna.get_by_role("button", name="Отправить").click()
    sent = vk.wait_for(lambda c: "Заказ уже в пути!" in str(c.params.get("message")))
    assert str(sent.params["user_id"]) == str(USER)
    vk.user_sends_photo(TOKEN, USER, b"\xff\xd8\xff parcel", caption="Фото посылки")
    expect(anna.get_by_role("log").get_by_text("Фото посылки")).to_be_visible()
