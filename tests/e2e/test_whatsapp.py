"""An administrator connects a WhatsApp number and an employee answers a WhatsApp client in the
browser, past the 24-hour window with a template."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from impserver.demo import seed_demo
from tests.channels.fake_whatsapp import FakeWhatsApp
from tests.e2e.conftest import WEB_DIST
from tests.harness import LiveServer, free_port

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
    port = free_port()
    settings = settings_factory(
        "sqlite",
        web_dist=WEB_DIST,
        whatsapp_api_url=whatsapp.base_url,
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


def connect_in_administration(server: LiveServer, whatsapp: FakeWhatsApp, admin: Page) -> None:
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Ресурсы").click()
    admin.get_by_role("button", name="Подключить WhatsApp").click()
    dialog = admin.get_by_role("dialog")
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
    card.get_by_role("button", name="Добавить очередь").click()
    admin.get_by_role("dialog").get_by_label("Название очереди").fill("WhatsApp: вопросы")
    admin.get_by_role("dialog").get_by_role("button", name="Создать").click()
    admin.get_by_role("tab", name="Сотрудники").click()
    admin.locator("tr[data-login='anna']").get_by_role("button", name="Очереди").click()
    admin.get_by_role("dialog").get_by_label("WhatsApp: вопросы").check()
    admin.get_by_role("dialog").get_by_role("button", name="Сохранить").click()
    expect(admin.get_by_role("dialog")).to_have_count(0)


def take(anna: Page, text: str) -> None:
    request = anna.get_by_role("listitem").filter(has_text=text)
    expect(request).to_contain_text("IMP Shop")
    request.get_by_role("button", name="Принять").click()
    anna.wait_for_url("**/requests/*")


def test_connect_a_number_and_answer_a_whatsapp_client(
    server_with_whatsapp: LiveServer,
    whatsapp: FakeWhatsApp,
    new_context: Callable[..., BrowserContext],
) -> None:
    admin = log_in(server_with_whatsapp, new_context, "admin")
    connect_in_administration(server_with_whatsapp, whatsapp, admin)

    anna = log_in(server_with_whatsapp, new_context, "anna")
    whatsapp.user_writes(NUMBER, USER, "Добрый день, где мой заказ?", name="Ольга Кузнецова")
    take(anna, "Добрый день, где мой заказ?")
    expect(anna.get_by_role("heading", name="Ольга Кузнецова")).to_be_visible()
    expect(
        anna.get_by_role("complementary", name="Клиент").get_by_role(
            "button", name=f"Изменить контакт +{USER}"
        )
    ).to_contain_text("WhatsApp")
    anna.get_by_label("Сообщение", exact=True).fill("Заказ уже в пути!")
    anna.get_by_role("button", name="Отправить").click()
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
    take(anna, "Вопрос со вчера")
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
