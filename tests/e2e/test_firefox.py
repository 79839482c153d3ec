"""The widget, the workspace, calls and co-browsing in Firefox (stock firefox-esr, headless).

Firefox is driven over WebDriver BiDi (tests/e2e/firefox.py); where both engines take part, the
other side is the Chromium of the rest of the suite, driven by Playwright.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Page, expect

from tests.api.test_requests import queue_ids
from tests.e2e.firefox import Firefox, FirefoxPage, VirtualDisplay
from tests.e2e.media import STATS, grows
from tests.e2e.test_calls import BUTTON, ENDED, IN_PROGRESS
from tests.e2e.test_widget_requests import accept_from_queue
from tests.e2e.test_widget_requests import client_says as chromium_says
from tests.e2e.test_widget_requests import open_widget as open_chromium_widget
from tests.harness import LiveServer, Session
from tests.pictures import picture
from tests.widget import visit

pytestmark = pytest.mark.xdist_group("firefox")

WIDGET = "#imp-widget-frame"
MY_ID = "() => fetch('/api/me').then((r) => r.json()).then((me) => me.id)"


def wait_until(condition: Callable[[], object], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def firefox_browser() -> Iterator[Firefox]:
    browser = Firefox()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def firefox_browser_on_a_display() -> Iterator[Firefox]:
    display = VirtualDisplay()
    browser = Firefox(display)
    yield browser
    browser.close()
    display.stop()


@pytest.fixture
def firefox(app_server: LiveServer, firefox_browser: Firefox) -> Iterator[Firefox]:
    """The module's Firefox for one test: its tabs are closed when the test ends, before the
    test's server stops (an open tab's socket would hold the server's shutdown)."""
    yield firefox_browser
    firefox_browser.close_pages()


@pytest.fixture
def firefox_on_a_display(
    app_server: LiveServer, firefox_browser_on_a_display: Firefox
) -> Iterator[Firefox]:
    """Firefox on a virtual display: headless Firefox has no screen, so nothing to share."""
    yield firefox_browser_on_a_display
    firefox_browser_on_a_display.close_pages()


def open_widget(
    firefox: Firefox, server: LiveServer, **viewport: int
) -> tuple[FirefoxPage, FirefoxPage]:
    page = firefox.page(viewport=viewport or None)
    page.goto(f"{server.base_url}/demo")
    page.click_button("Чат с поддержкой")
    return page, page.frame(WIDGET)


def client_says(frame: FirefoxPage, text: str) -> None:
    frame.fill("Сообщение", text)
    frame.click_button("Отправить")


def accept_waiting(employee: Session, text: str) -> int:
    """The employee takes the waiting request whose newest message is ``text``."""
    cards: list[dict] = []

    def waiting() -> bool:
        cards[:] = [
            card
            for card in employee.http.get("/api/requests/queue").json()
            if (card.get("last_message") or {}).get("body") == text
        ]
        return bool(cards)

    wait_until(waiting)
    request_id = int(cards[0]["id"])
    assert employee.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    return request_id


def test_the_widget_in_firefox(app_server: LiveServer, firefox: Firefox) -> None:
    page, frame = open_widget(firefox, app_server)
    frame.click_button("Sales")
    client_says(frame, "Здравствуйте, пишу из Firefox")
    anna = app_server.login("anna")
    request_id = accept_waiting(anna, "Здравствуйте, пишу из Firefox")
    # The employee's reply arrives live.
    sent = anna.http.post(
        f"/api/requests/{request_id}/messages", json={"body": "Добрый день! Чем помочь?"}
    )
    assert sent.status_code == 201, sent.text
    frame.wait_text("Добрый день! Чем помочь?")
    frame.wait_text("Анна Смирнова")

    # A picture from the client: the employee gets it whole, the widget shows the thumbnail.
    photo = picture(900, 600)
    frame.upload("input[type=file]", [("фото.png", photo)])
    client_says(frame, "Вот фото")
    frame.wait_for(
        "() => { const img = document.querySelector('img[alt=\"фото.png\"]');"
        " return img && img.complete && img.naturalWidth }",
        what="the picture drawn",
    )
    history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    (attachment,) = next(m for m in history if m["body"] == "Вот фото")["attachments"]
    assert anna.http.get(attachment["url"]).content == photo
    assert (
        frame.evaluate("() => document.querySelector('img[alt=\"фото.png\"]').naturalWidth") == 480
    )

    # A document from the employee: name, type and size, downloadable from memory.
    upload = anna.http.post(
        "/api/files", files={"file": ("счёт.pdf", b"%PDF-1.4 " * 100, "application/pdf")}
    ).json()
    anna.http.post(
        f"/api/requests/{request_id}/messages",
        json={"body": "Счёт во вложении", "attachment_ids": [upload["id"]]},
    )
    frame.wait_text("счёт.pdf")
    frame.wait_for(
        "() => [...document.querySelectorAll('a.file')].some((a) => a.href.startsWith('blob:'))",
        what="the document fetched",
    )

    # The history is there on the next page of the site.
    page.goto(f"{app_server.base_url}/demo")
    page.click_button("Чат с поддержкой")
    for text in ("Здравствуйте, пишу из Firefox", "Добрый день! Чем помочь?", "Счёт во вложении"):
        frame.wait_text(text)


def test_the_widget_takes_the_whole_phone_screen_in_firefox(
    app_server: LiveServer, firefox: Firefox
) -> None:
    page, frame = open_widget(firefox, app_server, width=390, height=740)
    frame.click_button("Sales")
    client_says(frame, "С телефона")
    frame.wait_text("С телефона")
    box = page.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
        " return [r.left, r.top, r.width, r.height] }",
        WIDGET,
    )
    assert box == [0, 0, 390, 740], box
    # Nothing scrolls sideways in the chat.
    assert frame.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def log_in(firefox: Firefox, server: LiveServer, login: str) -> FirefoxPage:
    page = firefox.page(viewport={"width": 1366, "height": 800})
    page.goto(f"{server.base_url}/login")
    page.fill("Логин", login)
    page.fill("Пароль", f"{login}-demo")
    page.click_button("Войти")
    page.wait_for("() => !location.pathname.startsWith('/login')", what="logged in")
    page.wait_for(
        "() => window.__imp?.realtime.state.value === 'connected'", what="the socket connected"
    )
    return page


def test_the_workspace_in_firefox(app_server: LiveServer, firefox: Firefox) -> None:
    anna = log_in(firefox, app_server, "anna")
    for section in ("Очередь", "Обращения", "Сотрудники"):
        anna.wait_until_shown("a", section, exact=False)

    # A client writes; the request appears in the queue live, is taken and answered.
    visitor = visit(app_server, origin=app_server.base_url)
    visitor.pick(queue_ids(app_server)["Sales"])
    assert visitor.send("Нужна помощь с заказом 77").status_code == 201
    anna.click("a", "Очередь", exact=False)
    anna.click("button", "Принять", within=("li", "Нужна помощь с заказом 77"))
    anna.wait_for("() => /\\/requests\\/\\d+$/.test(location.pathname)", what="the request")
    request_id = int(anna.url.rsplit("/", 1)[1])
    anna.fill("Сообщение", "Сейчас посмотрю заказ", press="Enter")
    anna.wait_until_shown("article", "Сейчас посмотрю заказ", exact=False)
    wait_until(lambda: "Сейчас посмотрю заказ" in str(visitor.conversation()))
    # The client's next message arrives live.
    visitor.send("Спасибо, жду")
    anna.wait_until_shown("article", "Спасибо, жду", exact=False)

    # Search finds the request by its message.
    anna.fill("Поиск по обращениям, людям и сообщениям", "заказом 77")
    anna.wait_until_shown(f'.search-results [data-request-id="{request_id}"]')
    anna.click(f'.search-results [data-request-id="{request_id}"]')
    anna.wait_until_gone(".search-results")

    # Handling: returned to the queue, it waits there and is taken again; closed, it leaves
    # the list and the client is told.
    anna.click_button("Вернуть в очередь")
    anna.wait_for("() => location.pathname === '/requests'", what="back to the list")
    anna.click("a", "Очередь", exact=False)
    anna.click("button", "Принять", within=("li", "Спасибо, жду"))
    anna.wait_for(f"() => location.pathname === '/requests/{request_id}'", what="taken again")
    anna.click_button("Закрыть заявку")
    anna.wait_for("() => location.pathname === '/requests'", what="back to the list")
    wait_until(lambda: visitor.conversation()["request"] is None)

    # A room: a colleague's message arrives live.
    boris = app_server.login("boris")
    room = boris.http.post(
        "/api/rooms", json={"name": "Firefox", "member_ids": [anna.evaluate(MY_ID)]}
    ).json()
    anna.click("a", "Сотрудники", exact=False)
    anna.click("a", "Firefox", exact=False)
    boris.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "Видишь меня?"})
    anna.wait_until_shown("article", "Видишь меня?", exact=False)
    anna.fill("Сообщение", "Вижу", press="Enter")
    wait_until(
        lambda: any(
            m["body"] == "Вижу" for m in boris.http.get(f"/api/rooms/{room['id']}/messages").json()
        )
    )

    # Do-not-disturb for an hour, then off again; the dark theme, kept after a reload.
    anna.click_button("Не беспокоить")
    anna.click_button("1 час")
    anna.wait_until_shown("button", "Уведомления выключены — включить")
    anna.click_button("Уведомления выключены — включить")
    anna.wait_until_shown("button", "Не беспокоить")
    anna.click_button("Тёмная тема")
    anna.wait_for("() => document.documentElement.dataset.theme === 'dark'", what="dark theme")
    anna.reload()
    anna.wait_for("() => document.documentElement.dataset.theme === 'dark'", what="dark kept")
    anna.wait_until_shown("button", "Светлая тема")
    assert request_id > 0


# -- calls between the engines ---------------------------------------------------------------


def firefox_stats(place: FirefoxPage, direction: str = "inbound-rtp") -> dict[str, int]:
    return place.evaluate(STATS, direction)  # type: ignore[no-any-return]


def firefox_grows(place: FirefoxPage, key: str, direction: str = "inbound-rtp") -> None:
    before = firefox_stats(place, direction)[key]
    time.sleep(1.5)
    assert firefox_stats(place, direction)[key] > before, f"{key} did not grow in Firefox"


def call_window(firefox: Firefox) -> FirefoxPage:
    """The call window the widget opened (a voice call runs in a window of its own)."""
    found: list[int] = []

    def opened() -> bool:
        found[:] = [
            p["id"] for p in firefox.pages() if "/widget/frame" in p["url"] and "call=" in p["url"]
        ]
        return bool(found)

    wait_until(opened)
    return FirefoxPage(firefox, found[-1])


@pytest.mark.parametrize("kind", ["voice", "video"])
def test_a_call_between_a_client_in_firefox_and_an_employee_in_chromium(
    app_server: LiveServer,
    firefox: Firefox,
    logged_in: Callable[..., Page],
    kind: str,
) -> None:
    client_in_firefox_calls(app_server, firefox, logged_in, kind)


def test_a_client_in_firefox_shares_the_screen_of_a_virtual_display_with_chromium(
    app_server: LiveServer,
    firefox_on_a_display: Firefox,
    logged_in: Callable[..., Page],
) -> None:
    """Headless Firefox has no screen to capture (getDisplayMedia answers NotFoundError), so
    this Firefox runs on Xvfb; everything else is as in the headless tests."""
    client_in_firefox_calls(app_server, firefox_on_a_display, logged_in, "screen")


def client_in_firefox_calls(
    app_server: LiveServer, firefox: Firefox, logged_in: Callable[..., Page], kind: str
) -> None:
    anna = logged_in("anna")
    text = f"Firefox {kind}"
    _, frame = open_widget(firefox, app_server)
    frame.click_button("Sales")
    client_says(frame, text)
    accept_from_queue(anna, text)

    anna.get_by_role("button", name=BUTTON[kind]).click()
    if kind == "voice":
        frame.click_button("Разрешить")
        controls = call_window(firefox)
        controls.click_button("Принять звонок")
    else:
        frame.click_button("Принять")
        controls = frame
    expect(anna.get_by_text(IN_PROGRESS[kind])).to_be_visible()

    # Media flows both ways between the engines: what each side receives keeps growing.
    if kind == "screen":
        # The client's screen goes to the employee; nothing comes back.
        grows(anna, "video")
        grows(anna, "frames")
        firefox_grows(controls, "video", "outbound-rtp")
    else:
        grows(anna, "audio")
        firefox_grows(controls, "audio")
        if kind == "video":
            grows(anna, "video")
            grows(anna, "frames")
            firefox_grows(controls, "video")
            firefox_grows(controls, "frames")

    # Hung up in Firefox for the voice and screen calls, in Chromium for the video call.
    if kind == "video":
        anna.get_by_role("button", name="Завершить").click()
        frame.wait_until_gone("section", "Видеозвонок")
    else:
        controls.click_button("Завершить")
    expect(anna.get_by_text(ENDED[kind])).to_be_visible()
    if kind == "voice":
        controls.wait_text("Звонок завершён")


@pytest.mark.parametrize("kind", ["voice", "video", "screen"])
def test_a_call_between_a_client_in_chromium_and_an_employee_in_firefox(
    app_server: LiveServer,
    firefox: Firefox,
    new_context: Callable[..., BrowserContext],
    kind: str,
) -> None:
    text = f"Chromium {kind}"
    page, chromium_frame = open_chromium_widget(app_server, new_context)
    chromium_frame.get_by_role("button", name="Sales").click()
    chromium_says(chromium_frame, text)
    anna = log_in(firefox, app_server, "anna")
    anna.click("a", "Очередь", exact=False)
    anna.click("button", "Принять", within=("li", text))
    anna.wait_for("() => /\\/requests\\/\\d+$/.test(location.pathname)", what="the request")

    anna.click_button(BUTTON[kind])
    controls: Page | FrameLocator
    if kind == "voice":
        with page.expect_popup() as popup_info:
            chromium_frame.get_by_role("button", name="Разрешить").click()
        controls = popup_info.value
        controls.get_by_role("button", name="Принять звонок").click()
    else:
        chromium_frame.get_by_role("button", name="Принять", exact=True).click()
        controls = chromium_frame
    anna.wait_text(IN_PROGRESS[kind])

    if kind == "screen":
        firefox_grows(anna, "video")
        firefox_grows(anna, "frames")
    else:
        firefox_grows(anna, "audio")
        if kind == "voice":
            grows(controls, "audio")
        if kind == "video":
            firefox_grows(anna, "video")
            firefox_grows(anna, "frames")
            widget = next(f for f in page.frames if "/widget/frame" in f.url)
            grows(widget, "audio")
            grows(widget, "video")

    # Hung up in Chromium for the voice call, in Firefox for the others.
    if kind == "voice":
        controls.get_by_role("button", name="Завершить").click()
    else:
        anna.click_button("Завершить")
    anna.wait_text(ENDED[kind])


# -- co-browsing between the engines ---------------------------------------------------------

SECRET = "s3cr3t-Pa55"
# The middle of an element of the replayed page, in the window's own coordinates: the replay
# is scaled to fit the stage, and the pointer acts on the overlay above it.
REPLAYED_POINT = """(selector) => {
  const stage = document.querySelector('.cobrowse-stage iframe')
  const inner = stage.contentDocument.querySelector(selector)
  if (!inner) return null
  const outer = stage.getBoundingClientRect()
  const scale = outer.width / stage.offsetWidth
  const box = inner.getBoundingClientRect()
  return [
    outer.left + (box.left + box.width / 2) * scale,
    outer.top + (box.top + box.height / 2) * scale,
  ]
}"""


def test_cobrowsing_a_page_in_firefox_from_chromium(
    app_server: LiveServer, firefox: Firefox, logged_in: Callable[..., Page]
) -> None:
    anna = logged_in("anna")
    # The window Chromium's tests have: the shop's button is in view, for the employee too
    # (they see, and can click, what the client's window shows).
    page, frame = open_widget(firefox, app_server, width=1280, height=720)
    frame.click_button("Sales")
    client_says(frame, "Помогите оформить заказ из Firefox")
    accept_from_queue(anna, "Помогите оформить заказ из Firefox")
    with anna.expect_popup() as popup:
        anna.get_by_role("button", name="Совместный просмотр").click()
    window = popup.value
    frame.click_button("Разрешить")
    page.wait_text("Эта страница показывается сотруднику")
    replay = window.frame_locator(".cobrowse-stage iframe")
    expect(replay.get_by_role("heading", name="Добро пожаловать в демо-магазин")).to_be_visible()

    # What the client types in Firefox shows; the password and the card never leave it.
    page.fill("Имя", "Мария")
    expect(replay.locator("#name")).to_have_value("Мария")
    page.fill("Пароль", SECRET)
    page.fill("Номер карты", "4111 1111 1111 1111")
    window.wait_for_timeout(800)
    relayed = window.evaluate("() => window.__impCobrowseFrames.join('\\n')")
    assert SECRET not in relayed and "4111" not in relayed

    # The employee's click and typing are carried out in Firefox.
    overlay = window.get_by_role("application", name="Страница клиента")
    target = replay.locator("#add").bounding_box()
    assert target is not None
    overlay_box = overlay.bounding_box()
    assert overlay_box is not None
    overlay.click(
        position={
            "x": target["x"] + target["width"] / 2 - overlay_box["x"],
            "y": target["y"] + target["height"] / 2 - overlay_box["y"],
        }
    )
    page.wait_for("() => document.querySelector('#counter').textContent === '1'", what="clicked")
    field = replay.locator("#email").bounding_box()
    assert field is not None
    overlay.click(
        position={
            "x": field["x"] + 10 - overlay_box["x"],
            "y": field["y"] + field["height"] / 2 - overlay_box["y"],
        }
    )
    window.keyboard.type("ivan@example.com", delay=30)
    page.wait_for(
        "() => document.querySelector('#email').value === 'ivan@example.com'", what="typed"
    )

    # On to another page of the site, then the client stops.
    page.click("a", "Доставка")
    expect(replay.get_by_role("heading", name="Доставка")).to_be_visible()
    page.click_button("Остановить")
    expect(window.get_by_text("Совместный просмотр завершён.")).to_be_visible()
    page.wait_until_gone("*", "Эта страница показывается сотруднику")


def test_cobrowsing_a_page_in_chromium_from_firefox(
    app_server: LiveServer, firefox: Firefox, new_context: Callable[..., BrowserContext]
) -> None:
    page, chromium_frame = open_chromium_widget(app_server, new_context)
    chromium_frame.get_by_role("button", name="Sales").click()
    chromium_says(chromium_frame, "Покажите, где оплата")
    anna = log_in(firefox, app_server, "anna")
    anna.click("a", "Очередь", exact=False)
    anna.click("button", "Принять", within=("li", "Покажите, где оплата"))
    anna.wait_for("() => /\\/requests\\/\\d+$/.test(location.pathname)", what="the request")
    anna.click_button("Совместный просмотр")
    window = opened_window(firefox, "/cobrowse/")
    window.wait_text("Ждём клиента…")
    chromium_frame.get_by_role("button", name="Разрешить").click()
    stage = window.frame(".cobrowse-stage iframe")
    stage.wait_text("Добро пожаловать в демо-магазин")

    page.get_by_label("Имя").fill("Мария")
    stage.wait_for("() => document.querySelector('#name')?.value === 'Мария'", what="typed")
    # The employee in Firefox clicks and types on the client's page in Chromium.
    window.mouse_click(*window.wait_for(REPLAYED_POINT, "#add", what="the button replayed"))
    expect(page.locator("#counter")).to_have_text("1")
    x, y = window.wait_for(REPLAYED_POINT, "#email", what="the field replayed")
    window.mouse_click(x, y)
    window.keyboard_type("ivan@example.com")
    expect(page.get_by_label("E-mail")).to_have_value("ivan@example.com")
    window.click_button("Завершить просмотр")
    expect(page.get_by_text("Эта страница показывается сотруднику")).to_have_count(0)


def opened_window(firefox: Firefox, path: str) -> FirefoxPage:
    found: list[int] = []

    def opened() -> bool:
        found[:] = [p["id"] for p in firefox.pages() if path in p["url"]]
        return bool(found)

    wait_until(opened)
    return FirefoxPage(firefox, found[-1])
