"""The widget's JavaScript API in a real page: window.IMP on the demo site, driven the way a
site's own scripts drive it (calls queued before the loader, then made on the loaded API)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, FrameLocator, Page, expect

from tests.e2e.administration import demo_site_card
from tests.e2e.test_widget_requests import accept_from_queue, client_says
from tests.harness import LiveServer
from tests.widget import identity_hash, identity_secret

LABEL = "Чат с поддержкой"

# What a site puts in its page before the loader: the stub that queues calls in IMP.q. Run in the
# site's page only (an init script runs in the chat's frame too).
STUB = """
if (window.top === window) {
  window.IMP = window.IMP || { q: [] };
  ['open', 'close', 'toggle', 'on', 'setUser', 'setAttributes'].forEach(function (name) {
    IMP[name] = IMP[name] || function () { IMP.q.push([name].concat([].slice.call(arguments))) };
  });
  window.seen = [];
  IMP.on('open', function () { seen.push('open') });
  IMP.on('close', function () { seen.push('close') });
  IMP.on('message', function (message) { seen.push(message) });
  %s
}
"""


def site_page(
    app_server: LiveServer, new_context: Callable[..., BrowserContext], calls: str = ""
) -> tuple[Page, FrameLocator]:
    """The demo site in a browser of its own, the page's early calls in ``calls``."""
    context = new_context(locale="ru-RU")
    context.add_init_script(STUB % calls)
    page = context.new_page()
    page.goto(f"{app_server.base_url}/demo")
    # The loader has replaced the stub with the API.
    page.wait_for_function("() => window.IMP && !Array.isArray(window.IMP.q)")
    return page, page.frame_locator("#imp-widget-frame")


def set_user_call(user: dict[str, Any]) -> str:
    return f"IMP.setUser({json.dumps(user, ensure_ascii=False)});"


def test_open_close_and_toggle_move_the_widget_and_tell_the_page(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    # IMP.open() called before the loader came is made once it does.
    page, frame = site_page(app_server, new_context, "IMP.open();")
    widget = page.locator("#imp-widget-frame")
    expect(widget).to_be_visible()
    expect(frame.get_by_label("Сообщение")).to_be_visible()
    assert page.evaluate("seen") == ["open"]

    page.evaluate("IMP.close()")
    expect(widget).to_be_hidden()
    page.evaluate("IMP.toggle()")
    expect(widget).to_be_visible()
    page.evaluate("IMP.toggle()")
    expect(widget).to_be_hidden()
    # Opening what is open tells nothing new.
    page.evaluate("IMP.close()")
    assert page.evaluate("seen") == ["open", "close", "open", "close"]

    # The visitor's own clicks tell the page too: the launcher, and the chat's collapse button.
    page.get_by_role("button", name=LABEL).click()
    expect(widget).to_be_visible()
    frame.get_by_role("button", name="Свернуть чат").click()
    expect(widget).to_be_hidden()
    assert page.evaluate("seen") == ["open", "close", "open", "close", "open", "close"]
    expect(page.get_by_role("button", name=LABEL)).to_have_attribute("aria-expanded", "false")


def test_the_page_hears_an_employees_reply(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    page, frame = site_page(app_server, new_context, "IMP.open();")
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Когда доставка?")
    accept_from_queue(anna, "Когда доставка?")
    # Collapsed: the reply still reaches the page.
    page.evaluate("IMP.close()")
    anna.get_by_label("Сообщение", exact=True).fill("Завтра <b>до обеда</b>")
    anna.get_by_role("button", name="Отправить").click()

    page.wait_for_function("() => seen.some((s) => typeof s === 'object')")
    messages = [s for s in page.evaluate("seen") if isinstance(s, dict)]
    assert len(messages) == 1
    message = messages[0]
    assert message["text"] == "Завтра <b>до обеда</b>"
    assert message["author"] == "Анна Смирнова"
    assert message["at"] and isinstance(message["id"], int)
    # The client's own words are not an employee's reply.
    page.evaluate("IMP.open()")
    client_says(frame, "Спасибо")
    expect(anna.get_by_role("log").get_by_text("Спасибо", exact=True)).to_be_visible()
    page.wait_for_timeout(500)
    assert len([s for s in page.evaluate("seen") if isinstance(s, dict)]) == 1


def test_a_verified_person_finds_their_history_in_another_browser(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    secret = identity_secret(app_server)
    user = {
        "id": "shop-user-7",
        "name": "Ирина Петрова",
        "email": "irina@example.com",
        "hash": identity_hash(secret, "shop-user-7"),
    }
    early = set_user_call(user) + (
        "IMP.setAttributes({plan: 'pro', seats: 3, trial: false, note: '<b>VIP</b>'});"
    )
    anna = logged_in("anna")

    _, laptop_chat = site_page(app_server, new_context, early + "IMP.open();")
    laptop_chat.get_by_role("button", name="Sales").click()
    client_says(laptop_chat, "Вопрос с ноутбука")
    accept_from_queue(anna, "Вопрос с ноутбука")
    anna.get_by_label("Сообщение", exact=True).fill("Ответ на вопрос")
    anna.get_by_role("button", name="Отправить").click()
    expect(laptop_chat.get_by_text("Ответ на вопрос")).to_be_visible()

    panel = anna.get_by_role("complementary", name="Клиент")
    expect(panel.get_by_text("Подтверждён")).to_be_visible()
    expect(panel.get_by_text("shop-user-7")).to_be_visible()
    expect(panel.get_by_role("button", name="Изменить контакт irina@example.com")).to_be_visible()
    attributes = panel.get_by_role("region", name="Атрибуты с сайта")
    expect(attributes).to_contain_text("plan")
    expect(attributes).to_contain_text("pro")
    expect(attributes).to_contain_text("нет")  # trial: false
    # Shown as text: the page's markup is not the workspace's.
    expect(attributes.get_by_text("<b>VIP</b>", exact=True)).to_be_visible()
    expect(attributes.locator("b")).to_have_count(0)
    expect(panel.get_by_role("region", name="Со слов посетителя, не подтверждено")).to_have_count(0)
    expect(anna.get_by_role("heading", name="Ирина Петрова")).to_be_visible()

    # The same person on their phone: another browser, the site vouching for them again.
    phone, phone_chat = site_page(app_server, new_context, set_user_call(user) + "IMP.open();")
    expect(phone_chat.get_by_text("Вопрос с ноутбука")).to_be_visible()
    expect(phone_chat.get_by_text("Ответ на вопрос")).to_be_visible()
    client_says(phone_chat, "Пишу с телефона")
    expect(anna.get_by_role("log").get_by_text("Пишу с телефона", exact=True)).to_be_visible()
    # One conversation: the laptop sees it too.
    expect(laptop_chat.get_by_text("Пишу с телефона")).to_be_visible()
    mine = anna.get_by_role("navigation", name="Мои обращения")
    expect(mine.get_by_role("link")).to_have_count(1)
    # And the phone's page hears the replies.
    anna.get_by_label("Сообщение", exact=True).fill("Вижу оба устройства")
    anna.get_by_role("button", name="Отправить").click()
    expect(phone_chat.get_by_text("Вижу оба устройства")).to_be_visible()
    phone.wait_for_function("() => seen.some((s) => s && s.text === 'Вижу оба устройства')")


def test_a_forged_hash_is_not_verified_and_sees_no_history(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    secret = identity_secret(app_server)
    owner = {"id": "shop-user-7", "hash": identity_hash(secret, "shop-user-7")}
    anna = logged_in("anna")
    _, owner_chat = site_page(app_server, new_context, set_user_call(owner) + "IMP.open();")
    owner_chat.get_by_role("button", name="Sales").click()
    client_says(owner_chat, "Мой личный заказ")
    expect(owner_chat.get_by_text("Пожалуйста, подождите")).to_be_visible()

    forged = {
        "id": "shop-user-7",
        "name": "Самозванец",
        "hash": identity_hash("a guessed secret", "shop-user-7"),
    }
    context = new_context(locale="ru-RU")
    context.add_init_script(STUB % (set_user_call(forged) + "IMP.open();"))
    intruder = context.new_page()
    with intruder.expect_response(lambda r: "/api/widget/identity" in r.url) as answer:
        intruder.goto(f"{app_server.base_url}/demo")
    assert answer.value.json() == {"verified": False, "session": None}
    chat = intruder.frame_locator("#imp-widget-frame")
    expect(chat.get_by_text("Здравствуйте! Чем можем помочь?")).to_be_visible()
    expect(chat.get_by_text("Мой личный заказ")).to_have_count(0)

    chat.get_by_role("button", name="Sales").first.click()
    client_says(chat, "Покажите заказ")
    accept_from_queue(anna, "Покажите заказ")
    panel = anna.get_by_role("complementary", name="Клиент")
    said = panel.get_by_role("region", name="Со слов посетителя, не подтверждено")
    expect(said).to_contain_text("Самозванец")
    expect(said).to_contain_text("shop-user-7")
    expect(panel.get_by_text("Подтверждён")).to_have_count(0)
    expect(anna.get_by_role("log").get_by_text("Мой личный заказ")).to_have_count(0)


def test_an_administrator_shows_and_regenerates_a_websites_identity_secret(
    app_server: LiveServer, logged_in: Callable[..., Page]
) -> None:
    secret = identity_secret(app_server)
    admin = logged_in("admin")
    site = demo_site_card(admin)
    shown = site.get_by_label("Секрет для подтверждения пользователей")
    expect(shown).to_have_count(0)  # not on screen until asked for
    site.get_by_role("button", name="Показать секрет").click()
    expect(shown).to_have_text(secret)
    site.get_by_role("button", name="Скрыть секрет").click()
    expect(shown).to_have_count(0)

    admin.once("dialog", lambda dialog: dialog.accept())
    site.get_by_role("button", name="Создать новый секрет").click()
    expect(site.get_by_role("status")).to_have_text("Новый секрет действует.")
    regenerated = identity_secret(app_server)
    assert regenerated != secret
    expect(shown).to_have_text(regenerated)
