"""An administrator connects a VK community and an employee answers a VK client in the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.channels.fake_vk import FakeVk
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
    live = start_messenger_server(settings_factory, vk_api_url=vk.base_url, vk_mode="polling")
    yield live
    live.stop()


def test_connect_a_community_and_answer_a_vk_client(
    server_with_vk: LiveServer, vk: FakeVk, new_context: Callable[..., BrowserContext]
) -> None:
    admin = log_in(server_with_vk, new_context, "admin")
    dialog = open_connect_dialog(admin, "Подключить сообщество ВКонтакте")
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
    add_queue_for_anna(admin, card, "ВК: вопросы")

    anna = log_in(server_with_vk, new_context, "anna")
    vk.user_starts(TOKEN, USER)
    vk.wait_for(lambda c: "Здравствуйте" in str(c.params.get("message")))
    vk.user_sends(TOKEN, USER, "Добрый день, где мой заказ?")
    take(anna, "Добрый день, где мой заказ?", "Помощь магазина")
    expect(anna.get_by_role("heading", name="Мария Иванова")).to_be_visible()
    expect_contact(anna, "https://vk.com/maria_i", "ВКонтакте")
    answer(anna, "Заказ уже в пути!")
    sent = vk.wait_for(lambda c: "Заказ уже в пути!" in str(c.params.get("message")))
    assert str(sent.params["user_id"]) == str(USER)
    vk.user_sends_photo(TOKEN, USER, b"\xff\xd8\xff parcel", caption="Фото посылки")
    expect(anna.get_by_role("log").get_by_text("Фото посылки")).to_be_visible()
