"""The workspace and the widget as a support team meets them: Russian UI at 1366×768."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Locator, Page, Route, expect

from impserver.demo import seed_demo
from impserver.domains.requests.actions import client_sends
from tests.e2e.conftest import WEB_DIST
from tests.e2e.language_check import assert_no_latin_words
from tests.e2e.media import content_frame, grows
from tests.e2e.test_calls import set_up
from tests.e2e.test_cobrowse import start_cobrowse
from tests.e2e.test_widget_requests import client_says, open_widget
from tests.harness import LiveServer, Session, free_port
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


def test_block_asks_first_keeps_the_reason_and_tells_the_client_at_once(
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

    # The client is told at once (the block revokes their session): the notice replaces the
    # composer, so nothing they type can vanish unseen.
    expect(frame.get_by_role("alert")).to_contain_text("больше не можете писать")
    expect(frame.get_by_label("Сообщение")).to_have_count(0)
    expect(frame.locator(".bubble", has_text="Ещё раз")).to_be_visible()

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


VIEWPORT = {"width": 1366, "height": 768}


def height(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None, "not laid out"
    return float(box["height"])


# --- Calls, call records, words of the Russian UI, co-browsing placeholder, widget greeting ---


def test_call_screen_share_keeps_the_chat_usable_and_controls_in_every_size(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, _, frame = set_up(app_server, new_context, logged_in, "Покажу экран")
    anna.set_viewport_size(VIEWPORT)
    history = anna.get_by_role("log", name="История сообщений")

    anna.get_by_role("button", name="Попросить показать экран").click()
    frame.get_by_role("button", name="Принять", exact=True).click()
    expect(anna.get_by_text("Клиент показывает экран")).to_be_visible()
    grows(anna, "frames")
    # The picture is bounded: the conversation keeps most of the window, and the agent answers.
    assert height(history) >= 250
    anna.get_by_label("Сообщение").fill("Вижу ваш экран")
    anna.get_by_role("button", name="Отправить").click()
    expect(frame.get_by_text("Вижу ваш экран")).to_be_visible()

    # In full screen the call's controls, and the chat, are inside what is shown full screen.
    anna.get_by_role("button", name="Во весь экран").click()
    anna.wait_for_function("() => document.fullscreenElement !== null")
    controls = anna.get_by_role("group", name="Управление звонком")
    in_fullscreen = "el => document.fullscreenElement.contains(el)"
    assert controls.evaluate(in_fullscreen)
    expect(controls.get_by_role("button", name="Обычный размер")).to_be_visible()
    assert history.evaluate(in_fullscreen) and height(history) >= 150
    composer = anna.get_by_label("Сообщение")
    assert composer.evaluate(in_fullscreen)
    composer.fill("Отвечаю из полноэкранного режима")
    anna.get_by_role("button", name="Отправить").click()
    expect(frame.get_by_text("Отвечаю из полноэкранного режима")).to_be_visible()

    # Leaving full screen another way (Esc does this) turns the size button back.
    anna.evaluate("() => document.exitFullscreen()")
    expect(anna.get_by_role("button", name="Во весь экран")).to_be_visible()

    # Hanging up from full screen leaves it, and the next share starts at its normal size.
    anna.get_by_role("button", name="Во весь экран").click()
    anna.wait_for_function("() => document.fullscreenElement !== null")
    controls.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text("Демонстрация экрана завершена.")).to_be_visible()
    anna.wait_for_function("() => document.fullscreenElement === null")

    anna.get_by_role("button", name="Попросить показать экран").click()
    frame.get_by_role("button", name="Принять", exact=True).click()
    expect(anna.get_by_role("button", name="Во весь экран")).to_be_visible()
    grows(anna, "frames")
    assert height(history) >= 250


SELF_VIEW_FITS = """panel => {
  const box = panel.getBoundingClientRect()
  const videos = [...panel.querySelectorAll('video')]
  return videos.length > 0 && box.right <= document.documentElement.clientWidth + 0.5 &&
    videos.every(v => {
      const r = v.getBoundingClientRect()
      return r.width > 0 && r.left >= box.left - 0.5 && r.right <= box.right + 0.5 &&
        r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
    })
}"""


def test_widget_call_self_view_fits_and_a_collapsed_call_shows_on_the_launcher(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, page, frame = set_up(app_server, new_context, logged_in, "Покажу товар")
    page.set_viewport_size(VIEWPORT)
    anna.get_by_role("button", name="Видеозвонок").click()
    frame.get_by_role("button", name="Принять", exact=True).click()
    expect(anna.get_by_text("Идёт видеозвонок")).to_be_visible()
    grows(content_frame(page, "#imp-widget-frame"), "frames")

    panel = frame.get_by_role("region", name="Видеозвонок")
    assert panel.evaluate(SELF_VIEW_FITS), "a video sticks out of the call panel"
    assert height(frame.get_by_role("log", name="Чат с поддержкой")) >= 150

    # Collapsed, the chat still shows the live camera and microphone on the site's page.
    launcher = page.get_by_role("button", name="Чат с поддержкой")
    frame.get_by_role("button", name="Свернуть чат").click()
    expect(page.locator("#imp-widget-frame")).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="Идёт видеозвонок")).to_be_visible()
    expect(launcher.locator("#imp-widget-live")).to_be_visible()

    launcher.click()
    expect(page.get_by_role("status").filter(has_text="Идёт видеозвонок")).to_be_hidden()
    frame.get_by_role("region", name="Видеозвонок").get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text("Видеозвонок завершён.")).to_be_visible()
    frame.get_by_role("button", name="Свернуть чат").click()
    expect(launcher.locator("#imp-widget-live")).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="Идёт видеозвонок")).to_have_count(0)


def demo_names(app_server: LiveServer, request_id: int) -> list[str]:
    """The names and data the demo holds: allowed in Latin letters in any language."""
    admin = app_server.login("admin").http
    names: list[str] = []
    for employee in admin.get("/api/admin/employees").json():
        names += [employee["name"], employee["login"]]
    for resource in admin.get("/api/admin/resources").json():
        names += [resource["name"], resource["public_key"], *resource["site_origins"]]
        names += [q["name"] for q in resource["queues"]]
    names += [g["name"] for g in admin.get("/api/admin/groups").json()]
    for room in admin.get("/api/rooms").json():
        names.append(room["name"])
        # What people wrote is data too (the demo's team room speaks the demo's language).
        messages = admin.get(f"/api/rooms/{room['id']}/messages").json()
        names += [m["body"] for m in messages if m["body"]]
    card = app_server.login("anna").http.get(f"/api/requests/{request_id}").json()
    names += [card["browser"], card["page_url"]]
    return names


def assert_dialog_speaks_russian(
    page: Page, button: str, allow: list[str], *, in_more_menu: bool = False
) -> None:
    if in_more_menu:
        # The request's toolbar keeps its rarer actions behind "Ещё".
        page.get_by_role("button", name="Ещё").click()
        page.get_by_role("menuitem", name=button).click()
    else:
        page.get_by_role("button", name=button).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert_no_latin_words(page, f"the dialog {button}", allow)
    dialog.get_by_role("button", name=re.compile("^(Отмена|Отменить)$")).click()
    expect(dialog).to_have_count(0)


def test_words_russian_ui_shows_no_codes_or_english(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, page, frame = set_up(app_server, new_context, logged_in, "Пришлю файл")
    anna.set_viewport_size(VIEWPORT)
    request_id = int(anna.url.rsplit("/", 1)[1])
    allow = demo_names(app_server, request_id)
    widget = content_frame(page, "#imp-widget-frame")
    history = anna.get_by_role("log", name="История сообщений")

    # A file's type and size, the size in Russian units.
    frame.get_by_label("Прикрепить файл").set_input_files(
        files=[{"name": "заметка.txt", "mimeType": "text/plain", "buffer": b"x" * 46}]
    )
    client_says(frame, "Вот файл")
    expect(history.get_by_text("TXT · 46 Б", exact=True)).to_be_visible()

    # Call records arrive while the request is open, in words; screen sharing is named as such.
    anna.get_by_role("button", name="Видеозвонок").click()
    frame.get_by_role("button", name="Отклонить").click()
    expect(history.get_by_text("Клиент отклонил видеозвонок")).to_be_visible()
    anna.get_by_role("button", name="Попросить показать экран").click()
    frame.get_by_role("button", name="Принять", exact=True).click()
    expect(anna.get_by_text("Клиент показывает экран")).to_be_visible()
    assert_no_latin_words(anna, "a request during screen sharing", allow)
    anna.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text("Демонстрация экрана завершена.")).to_be_visible()
    expect(
        history.get_by_text(re.compile(r"^Демонстрация экрана завершена, \d+ с$"))
    ).to_be_visible()
    expect(anna.get_by_text("Идёт звонок")).to_have_count(0)

    assert_no_latin_words(widget, "the widget", allow)
    assert_no_latin_words(anna, "a request with call records", allow)
    assert_dialog_speaks_russian(anna, "Передать в очередь", allow)
    assert_dialog_speaks_russian(anna, "Передать комнату специалисту", allow, in_more_menu=True)

    # Another client waits in the queue.
    _, other = open_widget(app_server, new_context)
    other.get_by_role("button", name="Technical support").click()
    client_says(other, "Жду в очереди")
    anna.get_by_role("link", name="Очередь").click()
    expect(anna.get_by_role("listitem").filter(has_text="Жду в очереди")).to_be_visible()
    assert_no_latin_words(anna, "the queue", allow)

    anna.get_by_role("link", name="Сотрудники").click()
    anna.get_by_role("link", name="Support team").first.click()
    expect(
        anna.get_by_role("log", name="История сообщений").locator("article").first
    ).to_be_visible()
    assert_no_latin_words(anna, "a room", allow)
    assert_dialog_speaks_russian(anna, "Создать комнату", allow)

    # Administration, with a server refusal shown in Russian.
    app_server.settings.telegram_api_url = "http://127.0.0.1:9"
    admin = logged_in("admin")
    admin.set_viewport_size(VIEWPORT)
    admin.goto(f"{app_server.base_url}/admin")
    tabs = ["Сотрудники", "Группы", "Ресурсы", "Заблокированные клиенты", "API-токены", "Вебхуки"]
    for tab in tabs:
        admin.get_by_role("tab", name=tab).click()
        expect(admin.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        assert_no_latin_words(admin, f"administration: {tab}", allow)
    assert_dialog_speaks_russian(admin, "Новый вебхук", allow)
    admin.get_by_role("tab", name="API-токены").click()
    assert_dialog_speaks_russian(admin, "Новый токен", allow)
    admin.get_by_role("tab", name="Сотрудники").click()
    assert_dialog_speaks_russian(admin, "Новый сотрудник", allow)
    admin.get_by_role("tab", name="Ресурсы").click()
    admin.get_by_role("button", name="Подключить бота Telegram").click()
    admin.get_by_role("dialog").get_by_label(re.compile("Токен бота")).fill(
        "123456:not-a-real-token"
    )
    admin.get_by_role("dialog").get_by_role("button", name="Подключить").click()
    expect(admin.get_by_role("alert")).to_contain_text("Не удалось связаться с Telegram")
    assert_no_latin_words(admin, "a refused bot token", allow)

    # Reports with the team right now, and the archive.
    admin.goto(f"{app_server.base_url}/reports")
    expect(admin.get_by_role("table", name="Команда сейчас")).to_be_visible()
    expect(admin.get_by_role("region", name="Итоги за период")).to_be_visible()
    assert_no_latin_words(admin, "reports", allow)
    admin.goto(f"{app_server.base_url}/archive")
    expect(admin.get_by_role("table", name="Найденные обращения")).to_be_visible()
    assert_no_latin_words(admin, "archive", allow)


EMPTY_BOXES = """() => [...document.querySelectorAll('iframe, button, div')]
  .filter(el => !el.textContent.trim() && el.children.length === 0)
  .filter(el => {
    const r = el.getBoundingClientRect()
    const style = getComputedStyle(el)
    const drawn = style.display !== 'none' && style.visibility !== 'hidden'
    return drawn && r.width >= 50 && r.height >= 50
  })
  .map(el => `${el.tagName} ${Math.round(el.getBoundingClientRect().width)}x${
    Math.round(el.getBoundingClientRect().height)}`)"""


def test_cobrowse_placeholder_of_the_widget_is_not_shown(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, _, frame = start_cobrowse(app_server, new_context, logged_in)
    with anna.expect_popup() as popup:
        anna.get_by_role("button", name="Совместный просмотр").click()
    window = popup.value
    frame.get_by_role("button", name="Разрешить").click()
    replay = window.frame_locator(".cobrowse-stage iframe")
    expect(replay.get_by_role("heading", name="Добро пожаловать в демо-магазин")).to_be_visible()
    page_copy = content_frame(window, ".cobrowse-stage iframe")
    # The widget's own frame is not recorded: its empty box must not stand in the client's page.
    shown = page_copy.evaluate(EMPTY_BOXES)
    assert shown == [], f"empty boxes in the shared page: {shown}"


def test_widget_greeting_is_centred_in_a_new_conversation(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    page, frame = open_widget(app_server, new_context)
    page.set_viewport_size(VIEWPORT)
    greeting = frame.get_by_role("region", name="Здравствуйте! Чем можем помочь?")
    expect(greeting).to_be_visible()
    expect(greeting.get_by_role("button", name="Sales")).to_be_visible()
    chat = frame.get_by_role("log", name="Чат с поддержкой")
    chat_box, greeting_box = chat.bounding_box(), greeting.bounding_box()
    assert chat_box and greeting_box
    middle = chat_box["y"] + chat_box["height"] / 2
    assert abs(greeting_box["y"] + greeting_box["height"] / 2 - middle) < 40
    assert greeting_box["height"] < chat_box["height"] / 2

    greeting.get_by_role("button", name="Sales").click()
    client_says(frame, "Здравствуйте")
    expect(greeting).to_have_count(0)
    expect(frame.get_by_text("Здравствуйте", exact=True)).to_be_visible()


def open_workspace(
    app_server: LiveServer, new_context: Callable[..., BrowserContext], login: str, path: str = ""
) -> Page:
    page = new_context(locale="ru-RU", viewport=VIEWPORT).new_page()
    page.goto(f"{app_server.base_url}/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(f"{login}-demo")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/queue")
    page.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")
    if path:
        page.goto(f"{app_server.base_url}{path}")
    return page


# -- History, unread counters, search and one's own message tools ---------------------------


def shared_queue(app_server: LiveServer, *logins: str) -> dict[str, Any]:
    """A demo queue that all of ``logins`` serve (queue names follow the demo's language)."""
    admin = app_server.login("admin")
    serving = {
        e["login"]: set(e["queue_ids"]) for e in admin.http.get("/api/admin/employees").json()
    }
    wanted = set.intersection(*(serving[login] for login in logins))
    return next(q for q in demo_site(app_server)["queues"] if q["id"] in wanted)


def client_request(app_server: LiveServer, queue_id: int, bodies: list[str]) -> tuple[int, int]:
    """A website client who wrote ``bodies`` into a request waiting in ``queue_id``: the client
    sends through the same action the widget calls. Returns (request id, client id)."""
    visitor = visit(app_server, origin=app_server.base_url)
    assert visitor.pick(queue_id).status_code in (200, 204)
    client_id = int(visitor.session["client"]["id"])
    for body in bodies:
        write(app_server, client_id, body)
    return int(visitor.conversation()["request"]["id"]), client_id


def write(app_server: LiveServer, client_id: int, body: str) -> int:
    message, _ = app_server.run(client_sends(app_server.services, client_id, body=body))
    return message.id


def taken_by(app_server: LiveServer, login: str, request_id: int) -> Session:
    employee = app_server.login(login)
    assert employee.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    return employee


def message_ids(employee: Session, request_id: int) -> dict[str, int]:
    ids: dict[str, int] = {}
    before: int | None = None
    while True:
        params: dict[str, int] = {"limit": 100, **({"before_id": before} if before else {})}
        page = employee.http.get(f"/api/requests/{request_id}/messages", params=params).json()
        ids.update((m["body"], m["id"]) for m in page)
        if len(page) < 100:
            return ids
        before = page[0]["id"]


def bubble(page: Page, text: str) -> Locator:
    return page.get_by_role("log").locator("article").filter(has_text=text)


def numbered(count: int, start: int = 1) -> list[str]:
    return [f"Сообщение номер {n:03d}" for n in range(start, start + count)]


def test_history_opens_at_the_newest_message_and_keeps_place_for_older_pages(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    queue = shared_queue(app_server, "anna")
    request_id, client_id = client_request(app_server, queue["id"], numbered(70))
    anna_api = taken_by(app_server, "anna", request_id)
    ids = message_ids(anna_api, request_id)
    anna_api.http.post(f"/api/requests/{request_id}/read", json={"message_id": max(ids.values())})
    anna = open_workspace(app_server, new_context, "anna", f"/requests/{request_id}")

    expect(bubble(anna, "Сообщение номер 070")).to_be_in_viewport()
    expect(bubble(anna, "Сообщение номер 040")).not_to_be_in_viewport()
    expect(anna.get_by_role("separator", name="Новые сообщения")).to_have_count(0)

    # An older page arrives above without moving what the reader is looking at.
    anna.get_by_role("button", name="Показать более ранние").click()
    expect(bubble(anna, "Сообщение номер 001")).to_have_count(1)
    expect(bubble(anna, "Сообщение номер 023")).to_be_in_viewport()
    expect(bubble(anna, "Сообщение номер 001")).not_to_be_in_viewport()

    # Up in the history, a new message does not pull the reader down: a button counts it.
    write(app_server, client_id, "Новое сверху не видно")
    expect(anna.get_by_role("button", name="↓ 1 новое")).to_be_visible()
    expect(bubble(anna, "Новое сверху не видно")).not_to_be_in_viewport()
    anna.get_by_role("button", name="↓ 1 новое").click()
    expect(bubble(anna, "Новое сверху не видно")).to_be_in_viewport()
    expect(anna.get_by_role("button", name="↓ 1 новое")).to_have_count(0)

    # At the bottom, new messages are followed.
    write(app_server, client_id, "А это видно сразу")
    expect(bubble(anna, "А это видно сразу")).to_be_in_viewport()
    expect(anna.get_by_role("button", name="↓ 1 новое")).to_have_count(0)


def slow_down(route: Route) -> None:
    """Answers a request a second and a half late, as a busy server would."""
    time.sleep(1.5)
    route.continue_()


def test_history_of_a_room_opens_at_the_newest_message(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    boris = app_server.login("boris")
    anna_id = next(e["id"] for e in boris.http.get("/api/employees").json() if e["login"] == "anna")
    room = boris.http.post("/api/rooms/direct", json={"employee_id": anna_id}).json()
    for body in numbered(40):
        boris.http.post(f"/api/rooms/{room['id']}/messages", json={"body": body})
    last = boris.http.get(f"/api/rooms/{room['id']}/messages", params={"limit": 1}).json()[0]
    app_server.login("anna").http.post(
        f"/api/rooms/{room['id']}/read", json={"message_id": last["id"]}
    )

    anna = open_workspace(app_server, new_context, "anna")
    # The reload resumes the socket, which replays the last seconds' events (the room's creation
    # among them, with its read marks of that moment) before the slowed room list answers.
    anna.route("**/api/rooms", slow_down)
    anna.goto(f"{app_server.base_url}/employees/{room['id']}")
    expect(bubble(anna, "Сообщение номер 040")).to_be_in_viewport()
    expect(bubble(anna, "Сообщение номер 005")).not_to_be_in_viewport()


def requests_link(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Рабочее место").get_by_role(
        "link", name="Обращения"
    )


def test_unread_counter_ignores_system_lines_and_clears_while_the_request_is_open(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    queue = shared_queue(app_server, "anna")
    request_id, client_id = client_request(app_server, queue["id"], ["Здравствуйте, вопрос"])
    anna = open_workspace(app_server, new_context, "anna")
    card = anna.get_by_role("listitem").filter(has_text="Здравствуйте, вопрос")
    card.get_by_role("button", name="Принять").click()
    anna.wait_for_url(f"**/requests/{request_id}")
    expect(bubble(anna, "Здравствуйте, вопрос")).to_be_visible()
    # The request is open and read: nothing is counted, neither the client's message nor the
    # system lines ("accepted", "please wait").
    expect(requests_link(anna)).to_have_accessible_name("Обращения")

    # A message that arrives while the request is open and in view is read as it comes.
    write(app_server, client_id, "Вы здесь?")
    expect(bubble(anna, "Вы здесь?")).to_be_in_viewport()
    expect(requests_link(anna)).to_have_accessible_name("Обращения")
    anna.reload()
    expect(bubble(anna, "Вы здесь?")).to_be_visible()
    expect(requests_link(anna)).to_have_accessible_name("Обращения")

    # Elsewhere, the client's messages are counted, one each. (Elsewhere once the Queue is
    # shown: until the navigation ends the request is still in view and reads what arrives.)
    anna.get_by_role("link", name="Очередь").click()
    anna.wait_for_url("**/queue")
    expect(anna.get_by_role("log")).to_have_count(0)
    write(app_server, client_id, "Жду ответа")
    expect(requests_link(anna)).to_have_accessible_name("Обращения Непрочитанных: 1")
    anna.get_by_role("link", name="Обращения").click()
    anna.get_by_role("navigation", name="Мои обращения").get_by_role("link").first.click()
    expect(requests_link(anna)).to_have_accessible_name("Обращения")


def test_history_opens_at_the_first_unread_message_under_a_divider(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    queue = shared_queue(app_server, "anna")
    request_id, client_id = client_request(app_server, queue["id"], numbered(30))
    anna_api = taken_by(app_server, "anna", request_id)
    ids = message_ids(anna_api, request_id)
    # Anna read the first thirty; then the client wrote thirty more.
    anna_api.http.post(
        f"/api/requests/{request_id}/read", json={"message_id": ids["Сообщение номер 030"]}
    )
    for body in numbered(30, start=31):
        write(app_server, client_id, body)

    anna = open_workspace(app_server, new_context, "anna")
    expect(requests_link(anna)).to_have_accessible_name("Обращения Непрочитанных: 30")
    anna.get_by_role("link", name="Обращения").click()
    anna.get_by_role("navigation", name="Мои обращения").get_by_role("link").first.click()

    # The history opens where she stopped: the divider and the first unread message in view,
    # the newest one further down, and nothing is read yet that she has not scrolled to.
    divider = anna.get_by_role("separator", name="Новые сообщения")
    expect(divider).to_be_in_viewport()
    expect(bubble(anna, "Сообщение номер 031")).to_be_in_viewport()
    expect(bubble(anna, "Сообщение номер 060")).not_to_be_in_viewport()
    first_unread = bubble(anna, "Сообщение номер 031")
    assert divider.evaluate(
        "(line, first) => line.nextElementSibling === first", first_unread.element_handle()
    )
    expect(requests_link(anna)).to_have_accessible_name("Обращения Непрочитанных: 30")

    # Read to the end, the counter clears and the divider stays where it was while open.
    bubble(anna, "Сообщение номер 060").scroll_into_view_if_needed()
    expect(bubble(anna, "Сообщение номер 060")).to_be_in_viewport()
    expect(requests_link(anna)).to_have_accessible_name("Обращения")
    expect(divider).to_have_count(1)


def section_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Рабочее место").get_by_role(
        "link", name=re.compile(rf"^{name}")
    )


def test_search_finds_closed_requests_by_client_name_from_every_section_and_opens_read_only(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    queue = shared_queue(app_server, "anna")
    request_id, client_id = client_request(app_server, queue["id"], ["Где мой заказ 4471?"])
    anna_api = taken_by(app_server, "anna", request_id)
    renamed = anna_api.http.patch(
        f"/api/clients/{client_id}", json={"display_name": "Пётр Кузнецов"}
    )
    assert renamed.status_code == 200, renamed.text
    assert anna_api.http.post(f"/api/requests/{request_id}/close").status_code == 204
    found = anna_api.http.get("/api/search", params={"q": "кузнецов"}).json()["requests"]
    last_activity = next(hit["last_activity_at"] for hit in found if hit["id"] == request_id)

    anna = open_workspace(app_server, new_context, "anna")
    field = anna.get_by_role("searchbox", name="Поиск по обращениям, людям и сообщениям")
    for section in ("Очередь", "Обращения", "Сотрудники"):
        for query in ("кузнецов", "заказ 4471"):
            section_link(anna, section).click()
            field.fill(query)
            results = anna.get_by_role("region", name="Результаты поиска")
            hit = results.get_by_role("button").filter(has_text="Пётр Кузнецов")
            expect(hit).to_have_count(1)
            # Who, where, in what state and when: the hit tells this request from the others.
            expect(hit).to_contain_text(queue["name"])
            expect(hit).to_contain_text("закрыто")
            when = hit.locator("time")
            expect(when).to_have_attribute("datetime", re.compile(rf"^{last_activity[:10]}"))
            expect(when).to_have_text(re.compile(r"^\d{1,2} [а-я]+\.?,? \d{2}:\d{2}$"))

            hit.click()
            anna.wait_for_url(f"**/requests/{request_id}")
            pane = anna.get_by_role("region", name="Пётр Кузнецов")
            expect(pane.get_by_role("status")).to_have_text(
                re.compile(r"^Только для чтения: обращение закрыто")
            )
            expect(bubble(anna, "Где мой заказ 4471?")).to_be_visible()
            # Read only: nothing to write with or act on.
            expect(pane.get_by_role("textbox", name="Сообщение")).to_have_count(0)
            expect(anna.get_by_role("button", name="Закрыть")).to_have_count(0)


def test_bubble_tools_show_on_hover_or_focus_only(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    anna_api = app_server.login("anna")
    boris_id = next(
        e["id"] for e in anna_api.http.get("/api/employees").json() if e["login"] == "boris"
    )
    room = anna_api.http.post("/api/rooms/direct", json={"employee_id": boris_id}).json()
    boris = app_server.login("boris")
    boris.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "Привет от Бориса"})
    anna_api.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "Моё сообщение"})

    anna = open_workspace(app_server, new_context, "anna", f"/employees/{room['id']}")
    mine, theirs = bubble(anna, "Моё сообщение"), bubble(anna, "Привет от Бориса")
    expect(mine).to_be_visible()
    tools = mine.get_by_role("button", name="Действия с сообщением")
    menu = mine.get_by_role("menu", name="Действия с сообщением")
    # At rest the bubble is just the message: no tools drawn and no Edit / Delete in it.
    expect(tools).to_have_css("opacity", "0")
    expect(anna.get_by_role("menuitem", name="Изменить")).to_have_count(0)
    expect(anna.get_by_role("menuitem", name="Удалить")).to_have_count(0)
    expect(mine).not_to_contain_text("Изменить")
    # Someone else's message has no tools at all.
    expect(theirs.get_by_role("button", name="Действия с сообщением")).to_have_count(0)

    # Pointing at the bubble shows the button; it opens the menu.
    mine.hover()
    expect(tools).to_have_css("opacity", "1")
    tools.click()
    expect(menu.get_by_role("menuitem", name="Изменить")).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Удалить")).to_be_visible()
    tools.press("Escape")
    expect(menu).to_have_count(0)
    anna.mouse.move(0, 0)
    anna.get_by_role("textbox", name="Сообщение").focus()
    expect(tools).to_have_css("opacity", "0")

    # By keyboard: the button is the last stop before the composer, shows when focused,
    # Enter opens the menu and Escape closes it, leaving the focus on the button.
    anna.get_by_role("button", name="Прикрепить файлы").focus()
    anna.keyboard.press("Shift+Tab")
    expect(tools).to_be_focused()
    expect(tools).to_have_css("opacity", "1")
    anna.keyboard.press("Enter")
    expect(tools).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("menuitem", name="Изменить")).to_be_visible()
    anna.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(tools).to_be_focused()
    anna.keyboard.press("Enter")
    menu.get_by_role("menuitem", name="Изменить").click()
    # In edit mode the body is in the text field, so the bubble is found by its field.
    expect(anna.get_by_role("textbox", name="Изменить сообщение")).to_have_value("Моё сообщение")
