"""The workspace as a support team lives in it, in the Russian UI at 1366×768."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Locator, Page, expect

from impserver.demo import seed_demo
from tests.e2e.conftest import WEB_DIST
from tests.harness import LiveServer, free_port
from tests.widget import Visitor, demo_site, visit

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


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
# How many lines of text an element's own text takes on screen.
TEXT_LINES = """(el) => {
    const range = document.createRange()
    range.selectNodeContents(el)
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size
}"""


def widget_client(
    server: LiveServer, new_context: Callable[..., BrowserContext], **options: object
) -> FrameLocator:
    page = new_context(locale="ru-RU", **options).new_page()
    page.goto(f"{server.base_url}/demo")
    page.get_by_role("button", name="Чат с поддержкой").click()
    return page.frame_locator("#imp-widget-frame")


def client_writes(frame: FrameLocator, text: str) -> None:
    frame.get_by_label("Сообщение").fill(text)
    frame.get_by_role("button", name="Отправить").click()


def api_client_waiting(server: LiveServer, text: str, topic: str = "Sales") -> Visitor:
    visitor = visit(server, origin=server.base_url)
    queue = next(q for q in demo_site(server)["queues"] if q["name"] == topic)
    assert visitor.pick(queue["id"]).status_code == 200
    assert visitor.send(text).status_code == 201
    return visitor


def take(employee: Page, text: str) -> Locator:
    """Accept the waiting request that says ``text``; the request's toolbar."""
    employee.get_by_role("link", name="Очередь").click()
    employee.get_by_role("listitem").filter(has_text=text).get_by_role(
        "button", name="Принять"
    ).click()
    employee.wait_for_url("**/requests/*")
    return employee.get_by_role("toolbar", name="Действия с обращением")


def test_contacts_are_read_only_rows_that_fit_a_laptop_screen(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    frame = widget_client(app_server, new_context, user_agent=IPHONE)
    frame.get_by_role("button", name="Sales").click()
    client_writes(frame, "Перезвоните мне")
    anna = logged_in("anna")
    anna.set_viewport_size(LAPTOP)
    anna.context.grant_permissions(["clipboard-read", "clipboard-write"])
    take(anna, "Перезвоните мне")
    # The browser is named by what it is, not by WebKit's build number.
    expect(anna.get_by_text("Mobile Safari 17, iOS 17 (iPhone)")).to_be_visible()

    panel = anna.get_by_role("complementary", name="Клиент")
    panel.get_by_role("button", name="Добавить контакт").click()
    cancel = panel.get_by_role("button", name="Отменить")
    assert cancel.evaluate(TEXT_LINES) == 1, "«Отменить» wraps"
    panel.get_by_label("Контакт", exact=True).fill("+7 900 123-45-67")
    panel.get_by_role("button", name="Обновить").click()
    panel.get_by_role("button", name="Добавить контакт").click()
    panel.get_by_label("Тип контакта").select_option("email")
    address = "konstantin.konstantinopolsky@example-company.ru"
    panel.get_by_label("Контакт", exact=True).fill(address)
    panel.get_by_role("button", name="Обновить").click()

    # Saved contacts read as rows with their type, the whole value and a copy button.
    phone = panel.get_by_role("button", name="Изменить контакт +7 900 123-45-67")
    expect(phone).to_contain_text("Телефон")
    expect(phone).to_contain_text("+7 900 123-45-67")
    expect(panel.get_by_role("button", name=f"Изменить контакт {address}")).to_contain_text(
        "E-mail"
    )
    expect(panel.get_by_role("textbox")).to_have_count(0)
    for value in ("+7 900 123-45-67", address):
        shown = panel.locator(".contact-value", has_text=value)
        assert shown.evaluate("(el) => el.scrollWidth <= el.clientWidth"), f"{value} is cut off"
        box, frame_box = shown.bounding_box(), panel.bounding_box()
        assert box and frame_box and box["x"] + box["width"] <= frame_box["x"] + frame_box["width"]
    assert panel.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "the panel scrolls sideways"
    assert panel.locator(".contact-value", has_text="+7 900 123-45-67").evaluate(TEXT_LINES) == 1

    panel.get_by_role("button", name="Скопировать +7 900 123-45-67").click()
    expect(panel.get_by_role("status")).to_have_text("Скопировано: +7 900 123-45-67")
    assert anna.evaluate("navigator.clipboard.readText()") == "+7 900 123-45-67"

    # A click edits in place.
    phone.click()
    expect(panel.get_by_label("Контакт", exact=True)).to_have_value("+7 900 123-45-67")
    panel.get_by_label("Контакт", exact=True).fill("+7 900 765-43-21")
    panel.get_by_role("button", name="Обновить").click()
    expect(panel.get_by_role("button", name="Изменить контакт +7 900 765-43-21")).to_be_visible()

    # A hidden contact keeps its type.
    panel.get_by_role("button", name="Изменить контакт +7 900 765-43-21").hover()
    panel.get_by_role("button", name="Скрыть контакт +7 900 765-43-21").click()
    panel.get_by_role("button", name="Скрытые контакты (1)").click()
    hidden = panel.locator(".hidden-contacts li")
    expect(hidden).to_contain_text("Телефон")
    expect(hidden).to_contain_text("+7 900 765-43-21")


def test_block_asks_first_keeps_the_reason_and_the_refused_message(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    frame = widget_client(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_writes(frame, "Купите слона")
    anna = logged_in("anna")
    anna.set_viewport_size(LAPTOP)
    toolbar = take(anna, "Купите слона")
    name = anna.get_by_role("heading", level=2).first.inner_text()
    assert re.fullmatch(r"Клиент №\d+", name)
    expect(anna.get_by_role("navigation", name="Мои обращения")).to_contain_text(name)

    # Nothing happens before the employee confirms.
    toolbar.get_by_role("button", name="Ещё").click()
    anna.get_by_role("menuitem", name="Блокировать").click()
    dialog = anna.get_by_role("dialog", name="Заблокировать клиента?")
    expect(dialog).to_contain_text(name)
    dialog.get_by_role("button", name="Отмена").click()
    expect(dialog).to_have_count(0)
    client_writes(frame, "Ещё раз")
    expect(anna.get_by_role("log").get_by_text("Ещё раз")).to_be_visible()

    toolbar.get_by_role("button", name="Ещё").click()
    anna.get_by_role("menuitem", name="Блокировать").click()
    dialog.get_by_label("Причина (необязательно)").fill("Спам и оскорбления")
    dialog.get_by_role("button", name="Блокировать").click()
    anna.wait_for_url("**/requests")

    # The client's refused message stays in view, with the notice.
    client_writes(frame, "Алло, вы тут?")
    refused = frame.locator(".bubble", has_text="Алло, вы тут?")
    expect(frame.get_by_role("alert")).to_contain_text("больше не можете писать")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("Не доставлено")

    # The block list keeps the reason and calls the client by the same name.
    admin = logged_in("admin")
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Заблокированные клиенты").click()
    row = admin.get_by_role("row").filter(has_text="Спам и оскорбления")
    expect(row.get_by_role("cell").first).to_have_text(name)
    expect(row).to_contain_text("Анна Смирнова")


def test_room_history_shows_joins_leaves_removals_and_renames(
    app_server: LiveServer, logged_in: Callable[..., Page]
) -> None:
    anna_api, boris_api = app_server.login("anna"), app_server.login("boris")
    ids = {e["login"]: e["id"] for e in anna_api.http.get("/api/employees").json()}
    room = anna_api.http.post(
        "/api/rooms", json={"name": "Доставка", "member_ids": [ids["boris"]]}
    ).json()
    base = f"/api/rooms/{room['id']}"
    anna_api.http.post(f"{base}/members", json={"employee_ids": [ids["olga"], ids["emma"]]})
    anna_api.http.patch(base, json={"name": "Ночная смена"})
    anna_api.http.delete(f"{base}/members/{ids['olga']}")

    anna = logged_in("anna")
    anna.set_viewport_size(LAPTOP)
    anna.goto(f"{app_server.base_url}/employees/{room['id']}")
    history = anna.get_by_role("log")
    for line in (
        "Анна Смирнова добавил(а) в комнату: Ольга Иванова",
        "Анна Смирнова добавил(а) в комнату: Emma Wilson",
        "Анна Смирнова переименовал(а) комнату в «Ночная смена»",
        "Анна Смирнова удалил(а) из комнаты: Ольга Иванова",
    ):
        expect(history.get_by_text(line, exact=True)).to_be_visible()
    # A line arrives live, while the room is open.
    anna.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")
    boris_api.http.delete(f"{base}/members/{ids['boris']}")
    expect(history.get_by_text("Борис Петров покинул(а) комнату", exact=True)).to_be_visible()

    # The same history in the English UI.
    emma = logged_in("emma", locale="en-US")
    emma.goto(f"{app_server.base_url}/employees/{room['id']}")
    english = emma.get_by_role("log")
    expect(
        english.get_by_text("Анна Смирнова renamed the room to “Ночная смена”", exact=True)
    ).to_be_visible()
    expect(english.get_by_text("Борис Петров left the room", exact=True)).to_be_visible()


def test_transfer_to_queue_offers_only_other_queues(
    app_server: LiveServer, logged_in: Callable[..., Page]
) -> None:
    api_client_waiting(app_server, "Хочу сменить тариф", topic="Sales")
    anna = logged_in("anna")
    anna.set_viewport_size(LAPTOP)
    take(anna, "Хочу сменить тариф").get_by_role("button", name="Передать в очередь").click()
    options = anna.get_by_role("dialog").get_by_label("Очередь").locator("option")
    expect(options).to_have_text(["Technical support", "General questions"])


def test_actions_fit_one_row_with_the_rest_behind_more(
    app_server: LiveServer, logged_in: Callable[..., Page]
) -> None:
    api_client_waiting(app_server, "Где мой заказ?")
    anna = logged_in("anna")
    anna.set_viewport_size(LAPTOP)
    toolbar = take(anna, "Где мой заказ?")
    buttons = toolbar.get_by_role("button")
    tops = {
        round(b["y"]) for b in (buttons.nth(i).bounding_box() for i in range(buttons.count())) if b
    }
    assert len(tops) == 1, "the request's actions wrap to a second row"
    for label in ("Закрыть заявку", "Вернуть в очередь", "Передать в очередь"):
        expect(toolbar.get_by_role("button", name=label)).to_be_visible()
    more = toolbar.get_by_role("button", name="Ещё")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    menu = anna.get_by_role("menu")
    for label in ("Передать комнату специалисту", "Блокировать"):
        expect(menu.get_by_role("menuitem", name=label)).to_be_visible()
    anna.keyboard.press("Escape")
    expect(menu).to_have_count(0)

    # The same in the English UI.
    anna.get_by_label("Язык").select_option("en")
    toolbar = anna.get_by_role("toolbar", name="Request actions")
    toolbar.get_by_role("button", name="More").click()
    for label in ("Transfer to specialist", "Block"):
        expect(anna.get_by_role("menu").get_by_role("menuitem", name=label)).to_be_visible()
