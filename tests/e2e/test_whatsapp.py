"""An administrator connects a WhatsApp number and an employee answers a WhatsApp client in the
browser, past the 24-hour window with a template."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.channels.fake_whatsapp import FakeWhatsApp
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

NUMBER = "109876543210123"
ACCOUNT = "100200300400500"
TOKEN = "EAAGm0PX4ZCpsBA-e2e-token-0123456789"
APP_SECRET = "abcdef0123456789abcdef0123456789"
VERIFY = "imp-e2e-verify"
USER = "79031112233"


@pytest.fixture
def whatsapp() -> Iterator[FakeWhatsApp]:
    fake = FakeWhatsApp().start()
    fake.add_number(NUMBER, ACCOUNT, TOKEN, APP_SECRET)
    yield fake
    fake.stop()


@pytest.fixture
def server_with_whatsapp(settings_factory: Any, whatsapp: FakeWhatsApp) -> Iterator[LiveServer]:
    live = start_messenger_server(settings_factory, whatsapp_api_url=whatsapp.base_url)
    yield live
    live.stop()


def connect_in_administration(server: LiveServer, whatsapp: FakeWhatsApp, admin: Page) -> None:
    dialog = open_connect_dialog(admin, "Подключить WhatsApp")
    dialog.get_by_label("ID номера телефона").fill(NUMBER)
    dialog.get_by_label("ID бизнес-аккаунта WhatsApp").fill(ACCOUNT)
    dialog.get_by_label("Маркер доступа").fill("EAAG-a-token-meta-does-not-know")
    dialog.get_by_label("Секрет приложения").fill(APP_SECRET)
    dialog.get_by_label("Маркер подтверждения (любая фраза на ваш выбор)").fill(VERIFY)
    dialog.get_by_label("Время выбора тематики, секунд").fill("0")
    dialog.get_by_role("button", name="Подключить").click()
    expect(dialog.get_by_role("alert")).to_have_text("WhatsApp не принял этот маркер доступа.")
    dialog.get_by_label("Маркер доступа").fill(TOKEN)
    dialog.get_by_role("button", name="Подключить").click()
    card = admin.get_by_role("article", name="IMP Shop")
    expect(card).to_contain_text("+7 495 123-45-67")
    # The address the card shows is the one Meta is given, and Meta's check of it passes.
    address = card.locator("code").filter(has_text="/webhook").inner_text()
    assert address.startswith(f"{server.base_url}/api/channels/whatsapp/")
    assert whatsapp.configure_webhook(NUMBER, address, VERIFY)
    add_queue_for_anna(admin, card, "WhatsApp: вопросы")


def test_connect_a_number_and_answer_a_whatsapp_client(
    server_with_whatsapp: LiveServer,
    whatsapp: FakeWhatsApp,
    new_context: Callable[..., BrowserContext],
) -> None:
    admin = log_in(server_with_whatsapp, new_context, "admin")
    connect_in_administration(server_with_whatsapp, whatsapp, admin)

    anna = log_in(server_with_whatsapp, new_context, "anna")
    whatsapp.user_writes(NUMBER, USER, "Добрый день, где мой заказ?", name="Ольга Кузнецова")
    take(anna, "Добрый день, где мой заказ?", "IMP Shop")
    expect(anna.get_by_role("heading", name="Ольга Кузнецова")).to_be_visible()
    expect_contact(anna, f"+{USER}", "WhatsApp")
    answer(anna, "Заказ уже в пути!")
    sent = whatsapp.wait_for(lambda c: "Заказ уже в пути!" in str(c.body.get("text")))
    assert sent.body["to"] == USER
    whatsapp.user_sends_media(
        NUMBER, USER, "image", b"\xff\xd8\xff parcel", "image/jpeg", caption="Фото посылки"
    )
    expect(anna.get_by_role("log").get_by_text("Фото посылки")).to_be_visible()


def test_past_24_hours_the_composer_offers_templates_and_sends_one(
    server_with_whatsapp: LiveServer,
    whatsapp: FakeWhatsApp,
    new_context: Callable[..., BrowserContext],
) -> None:
    admin = log_in(server_with_whatsapp, new_context, "admin")
    connect_in_administration(server_with_whatsapp, whatsapp, admin)

    anna = log_in(server_with_whatsapp, new_context, "anna")
    whatsapp.user_writes(NUMBER, USER, "Вопрос со вчера", sent_at=time.time() - 25 * 3600)
    take(anna, "Вопрос со вчера", "IMP Shop")
    templates = anna.get_by_role("region", name="Сообщение по шаблону")
    expect(templates.get_by_role("status")).to_have_text(
        "С последнего сообщения клиента прошло больше 24 часов: "
        "WhatsApp позволяет отправить только сообщение по шаблону."
    )
    expect(anna.get_by_label("Сообщение", exact=True)).to_have_count(0)
    templates.get_by_label("Шаблон").select_option(label="order_update · ru")
    templates.get_by_label("Параметр 1").fill("Ольга")
    templates.get_by_label("Параметр 2").fill("заказ передан курьеру")
    expect(templates.get_by_label("Что прочитает клиент")).to_have_text(
        "Здравствуйте, Ольга! По вашему обращению: заказ передан курьеру"
    )
    templates.get_by_role("button", name="Отправить шаблон").click()
    sent = whatsapp.wait_for(lambda c: c.body.get("type") == "template")
    assert sent.body["to"] == USER and sent.body["template"]["name"] == "order_update"
    expect(
        anna.get_by_role("log").get_by_text(
            "Здравствуйте, Ольга! По вашему обращению: заказ передан курьеру"
        )
    ).to_be_visible()
    # The client answers: the window opens and the ordinary composer is back.
    whatsapp.user_writes(NUMBER, USER, "Спасибо, жду")
    expect(anna.get_by_label("Сообщение", exact=True)).to_be_visible()
    expect(templates).to_have_count(0)
