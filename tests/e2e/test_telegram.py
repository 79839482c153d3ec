"""An employee connects a bot and answers a Telegram client in the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.channels.fake_telegram import FakeTelegram
from tests.e2e.messengers import (
    add_queue_for_anna,
    answer,
    expect_contact,
    log_in,
    open_connect_dialog,
    start_messenger_server,
    take,
)
from tests.harness import LiveServer

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
    live = start_messenger_server(
        settings_factory, telegram_api_url=telegram.base_url, telegram_mode="polling"
    )
    yield live
    live.stop()


def test_connect_bot_and_answer_a_telegram_client(
    server_with_bots: LiveServer, telegram: FakeTelegram, new_context: Callable[..., BrowserContext]
) -> None:
    admin = log_in(server_with_bots, new_context, "admin")
    dialog = open_connect_dialog(admin, "Подключить бота Telegram")
    dialog.get_by_label("Токен бота (от @BotFather)").fill("1:wrong-token")
    dialog.get_by_role("button", name="Подключить").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Telegram не принял этот токен бота.")
    dialog.get_by_label("Токен бота (от @BotFather)").fill(TOKEN)
    dialog.get_by_label("Время выбора тематики, секунд").fill("0")
    dialog.get_by_role("button", name="Подключить").click()
    bot_card = admin.get_by_role("article", name="Shop help")
    expect(bot_card).to_contain_text("@shop_help_bot")
    add_queue_for_anna(admin, bot_card, "Бот: вопросы")

    anna = log_in(server_with_bots, new_context, "anna")
    telegram.user_sends(TOKEN, USER, text="/start")
    telegram.user_sends(TOKEN, USER, text="Здравствуйте, где мой заказ?")
    take(anna, "Здравствуйте, где мой заказ?", "Shop help")
    expect_contact(anna, "@ivan", "Telegram")
    answer(anna, "Заказ в пути!")
    telegram.wait_for(lambda c: "Заказ в пути!" in str(c.params.get("text")))
    telegram.user_sends_photo(TOKEN, USER, b"\xff\xd8\xff photo", caption="Фото посылки")
    expect(anna.get_by_role("log").get_by_text("Фото посылки")).to_be_visible()
