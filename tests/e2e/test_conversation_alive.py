"""A conversation that feels alive: both sides see the other typing (with the client's draft
where the website allows it) and how far they have read; a reply the client is not looking at
shows in the page's title and on the button; words written without a connection go once it is
back, in order, once each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, FrameLocator, Page, expect

from tests.e2e.test_widget_requests import client_in_hands, client_says
from tests.harness import LiveServer


def test_typing_and_read_marks_reach_the_other_side_both_ways(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    _, frame = client_in_hands(app_server, new_context, anna, "Здравствуйте")
    anna_name = app_server.login("anna").me["name"]

    # Anna has the request open: the client's message shows as read in the widget.
    mine = frame.locator(".bubble.mine").filter(has_text="Здравствуйте")
    expect(mine.locator(".mark")).to_have_text("Прочитано")

    # The client types: Anna sees the draft as it is typed, and it goes once it is sent.
    composer = frame.get_by_label("Сообщение")
    composer.fill("Хочу вернуть <b>заказ</b>")
    line = anna.get_by_test_id("client-typing")
    expect(line).to_have_text("Клиент печатает: Хочу вернуть <b>заказ</b>")
    frame.get_by_role("button", name="Отправить").click()
    expect(line).to_be_hidden()
    expect(anna.get_by_role("log").get_by_text("Хочу вернуть <b>заказ</b>")).to_be_visible()

    # Anna types: the client sees she is typing. Her reply shows sent, then read by the
    # client, whose chat is open.
    anna.get_by_label("Сообщение", exact=True).press_sequentially("Оформим")
    expect(frame.get_by_text(f"{anna_name} печатает…")).to_be_visible()
    anna.get_by_label("Сообщение", exact=True).fill("Оформим возврат")
    anna.get_by_role("button", name="Отправить").click()
    expect(frame.get_by_text("Оформим возврат")).to_be_visible()
    reply = anna.get_by_role("log").locator(".message").filter(has_text="Оформим возврат")
    expect(reply.get_by_role("img", name="Прочитано клиентом")).to_be_visible()

    # A website that keeps drafts private: only that the client is typing.
    admin = app_server.login("admin")
    site = admin.http.get("/api/admin/resources").json()[0]
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"typing_preview": False})
    composer.fill("номер карты 4276")
    expect(line).to_have_text("Клиент печатает…")
    expect(anna.get_by_text("4276")).to_have_count(0)


def test_a_reply_to_a_closed_chat_shows_in_the_title_and_on_the_button(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    page, frame = client_in_hands(app_server, new_context, anna, "Есть кто?")
    title = page.title()
    launcher = page.get_by_role("button", name="Чат с поддержкой")
    launcher.click()  # the client closes the chat
    expect(frame.get_by_label("Сообщение")).to_be_hidden()

    anna.get_by_label("Сообщение", exact=True).fill("Да, слушаю")
    anna.get_by_role("button", name="Отправить").click()
    expect(page.locator("#imp-widget-badge")).to_have_text("1")
    expect(page).to_have_title(f"(1) {title}")
    anna.get_by_label("Сообщение", exact=True).fill("Что случилось?")
    anna.get_by_role("button", name="Отправить").click()
    expect(page).to_have_title(f"(2) {title}")

    launcher.click()
    expect(frame.get_by_text("Что случилось?")).to_be_visible()
    expect(page).to_have_title(title)
    expect(page.locator("#imp-widget-badge")).to_be_hidden()


def test_messages_written_offline_arrive_once_in_order_when_back_online(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    page, frame = client_in_hands(app_server, new_context, anna, "Начало")
    page.context.set_offline(True)
    for text in ("Первое без сети", "Второе без сети", "Третье без сети"):
        client_says(frame, text)
    expect(frame.locator(".bubble.pending")).to_have_count(3)
    # Kept where a reload finds them.
    stored = (
        page.frame_locator("#imp-widget-frame")
        .locator("body")
        .evaluate(
            "() => Object.keys(localStorage).filter((k) => k.startsWith('imp.outbox.')).length"
        )
    )
    assert stored == 1

    page.context.set_offline(False)
    expect(anna.get_by_role("log").get_by_text("Третье без сети")).to_be_visible()
    expect(frame.locator(".bubble.pending")).to_have_count(0)
    # Once each, in the order written.
    request_id = anna.url.rstrip("/").split("/")[-1]
    listed = app_server.login("anna").http.get(f"/api/requests/{request_id}/messages").json()
    bodies = [m["body"] for m in sorted(listed, key=lambda m: m["id"]) if "без сети" in m["body"]]
    assert bodies == ["Первое без сети", "Второе без сети", "Третье без сети"]

    # Written offline and the page closed before the connection came back: the next page of
    # the site sends it.
    page.context.set_offline(True)
    client_says(frame, "Четвёртое, страница закрыта")
    expect(frame.locator(".bubble.pending")).to_have_count(1)
    context = page.context
    page.close()
    context.set_offline(False)
    context.new_page().goto(f"{app_server.base_url}/demo/page-2")
    expect(anna.get_by_role("log").get_by_text("Четвёртое, страница закрыта")).to_be_visible()
    listed = app_server.login("anna").http.get(f"/api/requests/{request_id}/messages").json()
    assert [m["body"] for m in listed].count("Четвёртое, страница закрыта") == 1


# A phone in mobile Chromium: its screen, touch and user agent.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
}


def chat_on_a_phone(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> tuple[Page, FrameLocator]:
    """The demo site on a phone with its chat opened by a tap."""
    phone = new_context(locale="ru-RU", **PHONE).new_page()
    phone.goto(f"{app_server.base_url}/demo")
    phone.get_by_role("button", name="Чат с поддержкой").tap()
    return phone, phone.frame_locator("#imp-widget-frame")


def test_on_a_phone_the_chat_keeps_to_the_visible_part_of_the_screen(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    phone, frame = chat_on_a_phone(app_server, new_context)
    expect(frame.get_by_role("button", name="Отправить")).to_be_visible()
    # An on-screen keyboard leaves the page's layout as it is and shrinks the visual viewport
    # (the part of it on the screen). Headless Chromium opens no keyboard; zooming the page in
    # makes the same change to the visual viewport.
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Emulation.setPageScaleFactor", {"pageScaleFactor": 2})
    phone.wait_for_function("() => visualViewport.height < 500")
    phone.wait_for_function(
        """() => {
          const box = document.getElementById('imp-widget-frame').getBoundingClientRect()
          return Math.abs(box.top - visualViewport.offsetTop) < 1
            && Math.abs(box.height - visualViewport.height) < 1
            && Math.abs(box.width - visualViewport.width) < 1
        }"""
    )
    # So the composer is inside what the client sees.
    assert frame.get_by_role("button", name="Отправить").evaluate(
        "(send) => send.getBoundingClientRect().bottom <= window.innerHeight"
    )
    cdp.send("Emulation.setPageScaleFactor", {"pageScaleFactor": 1})
    phone.wait_for_function(
        "() => document.getElementById('imp-widget-frame').getBoundingClientRect().height === 844"
    )


def test_on_a_phone_the_chat_takes_the_whole_screen_and_the_composer_shows(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    phone, frame = chat_on_a_phone(app_server, new_context)
    frame.get_by_role("button", name="Sales").tap()
    client_says(frame, "Пишу с телефона")
    expect(frame.locator(".bubble.mine").filter(has_text="Пишу с телефона")).to_be_visible()
    box = phone.locator("#imp-widget-frame").bounding_box()
    assert box is not None and (box["x"], box["y"], box["width"], box["height"]) == (
        0,
        0,
        390,
        844,
    ), box
    # The composer and its button are on the screen, and nothing scrolls sideways.
    send = frame.get_by_role("button", name="Отправить").bounding_box()
    assert send is not None and send["y"] + send["height"] <= 844, send
    assert frame.locator("html").evaluate("(html) => html.scrollWidth <= html.clientWidth")
    anna.get_by_role("link", name="Очередь").click()
    anna.get_by_role("listitem").filter(has_text="Пишу с телефона").get_by_role(
        "button", name="Принять"
    ).click()
    anna.get_by_label("Сообщение", exact=True).fill("Отвечаю на телефон")
    anna.get_by_role("button", name="Отправить").click()
    expect(frame.get_by_text("Отвечаю на телефон")).to_be_visible()
