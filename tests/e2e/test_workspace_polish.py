"""The workspace and the widget as a support team meets them: Russian UI at 1366×768."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Frame, Page, expect

from tests.e2e.language_check import assert_no_latin_words
from tests.e2e.test_calls import grows, set_up
from tests.e2e.test_cobrowse import start_cobrowse
from tests.e2e.test_widget_requests import client_says, open_widget
from tests.harness import LiveServer

VIEWPORT = {"width": 1366, "height": 768}


def height(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None, "not laid out"
    return float(box["height"])


def content_frame(page: Page, selector: str) -> Frame:
    handle = page.locator(selector).element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


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
    card = app_server.login("anna").http.get(f"/api/requests/{request_id}").json()
    names += [card["browser"], card["page_url"]]
    return names


def assert_dialog_speaks_russian(page: Page, button: str, allow: list[str]) -> None:
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

    # A file's size is in Russian units.
    frame.get_by_label("Прикрепить файл").set_input_files(
        files=[{"name": "заметка.txt", "mimeType": "text/plain", "buffer": b"x" * 46}]
    )
    client_says(frame, "Вот файл")
    expect(history.get_by_text("46 Б", exact=True)).to_be_visible()

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
    assert_dialog_speaks_russian(anna, "Передать комнату специалисту", allow)

    # Another client waits in the queue.
    _, other = open_widget(app_server, new_context)
    other.get_by_role("button", name="Technical support").click()
    client_says(other, "Жду в очереди")
    anna.get_by_role("link", name="Очередь").click()
    expect(anna.get_by_role("listitem").filter(has_text="Жду в очереди")).to_be_visible()
    assert_no_latin_words(anna, "the queue", allow)

    anna.get_by_role("link", name="Сотрудники").click()
    anna.get_by_role("link", name="Support team").first.click()
    expect(anna.get_by_role("log", name="История сообщений")).to_contain_text("Доброе утро")
    assert_no_latin_words(anna, "a room", allow)
    assert_dialog_speaks_russian(anna, "Создать комнату", allow)

    # Administration, with a server refusal shown in Russian.
    app_server.settings.telegram_api_url = "http://127.0.0.1:9"
    admin = logged_in("admin")
    admin.set_viewport_size(VIEWPORT)
    admin.goto(f"{app_server.base_url}/admin")
    for tab in ["Сотрудники", "Группы", "Ресурсы", "Заблокированные клиенты"]:
        admin.get_by_role("tab", name=tab).click()
        expect(admin.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        assert_no_latin_words(admin, f"administration: {tab}", allow)
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
