"""An employee connects a bot and answers a Telegram client in the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from impserver.demo import seed_demo
from tests.channels.fake_telegram import FakeTelegram
from tests.e2e.conftest import WEB_DIST
from tests.harness import LiveServer, free_port

TOKEN = "424242:E2E-token_for_imp"
USER = 555001


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    fake.add_bot(TOKEN, username="shop_help_bot", first_name="Shop help")
    yield fake
    fake.stop()


@pytest.fixture
def server_with_bots(settings_factory: Any, telegram: FakeTelegram) -> Iterator[LiveServer]:
    port = free_port()
    settings = settings_factory(
        "sqlite",
        web_dist=WEB_DIST,
        telegram_api_url=telegram.base_url,
        telegram_mode="polling",
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


def test_connect_bot_and_answer_a_telegram_client(
    server_with_bots: LiveServer, telegram: FakeTelegram, new_context: Callable[..., BrowserContext]
) -> None:
    admin = log_in(server_with_bots, new_context, "admin")
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Ресурсы").click()
    admin.get_by_role("button", name="Подключить бота Telegram").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("Токен бота (от @BotFather)").fill("1:wrong-token")
    dialog.get_by_role("button", name="Подключить").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Telegram не принял этот токен бота.")
    dialog.get_by_label("Токен бота (от @BotFather)").fill(TOKEN)
    dialog.get_by_label("Время выбора тематики, секунд").fill("0")
    dialog.get_by_role("button", name="Подключить").click()
    bot_card = admin.get_by_role("article", name="Shop help")
    expect(bot_card).to_contain_text("@shop_help_bot")
    bot_card.get_by_role("button", name="Добавить очередь").click()
    admin.get_by_role("dialog").get_by_label("Название очереди").fill("Бот: вопросы")
    admin.get_by_role("dialog").get_by_role("button", name="Создать").click()
    admin.get_by_role("tab", name="Сотрудники").click()
    admin.locator("tr[data-login='anna']").get_by_role("button", name="Очереди").click()
    admin.get_by_role("dialog").get_by_label("Бот: вопросы").check()
    admin.get_by_role("dialog").get_by_role("button", name="Сохранить").click()

    anna = log_in(server_with_bots, new_context, "anna")
    telegram.user_sends(TOKEN, USER, text="/start")
    telegram.user_sends(TOKEN, USER, text="Здравствуйте, где мой заказ?")
    card = anna.get_by_role("listitem").filter(has_text="Здравствуйте, где мой заказ?")
    expect(card).to_contain_text("Shop help")
    card.get_by_role("button", name="Принять").click()
    anna.wait_for_url("**/requests/*")
    expect(
        anna.get_by_role("complementary", name="Клиент").get_by_role(
            "button", name="Изменить контакт @ivan"
        )
    ).to_contain_text("Telegram")
    anna.get_by_label("Сообщение", exact=True).fill("Заказ в пути!")
    anna.get_by_role("button", name="Отправить").click()
    telegram.wait_for(lambda c: "Заказ в пути!" in str(c.params.get("text")))
    telegram.user_sends_photo(TOKEN, USER, b"\xff\xd8\xff photo", caption="Фото посылки")
    expect(anna.get_by_role("log").get_by_text("Фото посылки")).to_be_visible()
