"""The widget, the workspace, calls and co-browsing in Firefox (stock firefox-esr, headless).

Firefox is driven over WebDriver BiDi (tests/e2e/firefox.py); where both engines take part, the
other side is the Chromium of the rest of the suite, driven by Playwright.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.api.test_requests import queue_ids
from tests.e2e.firefox import Firefox, FirefoxPage
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
def firefox() -> Iterator[Firefox]:
    browser = Firefox()
    yield browser
    browser.close()


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

    # Handling: closed, it leaves the list and the client is told.
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
