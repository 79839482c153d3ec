"""Whatever people type is shown as the text they typed: in the workspace and in the widget,
markup in messages, names and contacts stays literal and no script of theirs ever runs."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Frame, Page, expect

from tests.api.test_rooms import employee_ids
from tests.e2e.test_widget_requests import client_says, open_widget
from tests.harness import LiveServer

MESSAGE = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
PERSON = '<img src=y onerror="window.__pwned=2"><i>Mallory</i>'
ROOM = '<svg onload="window.__pwned=3"><u>Room</u></svg>'
CONTACT = '<a href="javascript:window.__pwned=4">call me</a>'


def assert_inert(page: Page | Frame, where: str) -> None:
    """No element was made from the markup, and none of its scripts ran."""
    assert page.evaluate("() => window.__pwned") is None, where
    for selector in ("img[src='x']", "img[src='y']", "svg[onload]", "a[href^='javascript:']"):
        assert page.locator(selector).count() == 0, f"{where}: {selector}"
    assert page.locator("b", has_text="bold").count() == 0, where
    assert page.locator("i", has_text="Mallory").count() == 0, where
    assert page.locator("u", has_text="Room").count() == 0, where


def widget_frame(page: Page) -> Frame:
    return next(f for f in page.frames if "/widget/frame" in f.url)


def test_markup_from_people_stays_text_everywhere(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    admin = app_server.login("admin")
    created = admin.http.post(
        "/api/admin/employees",
        json={"login": "mallory", "name": PERSON, "password": "long-password"},
    )
    assert created.status_code == 201, created.text
    anna_api = app_server.login("anna")
    room = anna_api.http.post(
        "/api/rooms",
        json={"name": ROOM, "member_ids": [employee_ids(anna_api)["mallory"]]},
    ).json()
    mallory = app_server.login("mallory", "long-password")
    assert (
        mallory.http.post(f"/api/rooms/{room['id']}/messages", json={"body": MESSAGE}).status_code
        == 201
    )

    # A client writes markup from the widget.
    site, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, MESSAGE)
    expect(frame.get_by_text(MESSAGE)).to_be_visible()

    anna = logged_in("anna")
    anna.get_by_role("link", name="Очередь").click()
    card = anna.get_by_role("listitem").filter(has_text=MESSAGE)
    expect(card).to_be_visible()
    assert_inert(anna, "queue")
    card.get_by_role("button", name="Принять").click()
    anna.wait_for_url("**/requests/*")
    request_id = int(anna.url.rstrip("/").rsplit("/", 1)[1])

    # The client's name and contacts, set to markup by a colleague, shown after a reload.
    client_id = anna_api.http.get(f"/api/requests/{request_id}").json()["client"]["id"]
    assert (
        anna_api.http.patch(f"/api/clients/{client_id}", json={"display_name": PERSON}).status_code
        == 200
    )
    contacts = anna_api.http.put(
        f"/api/clients/{client_id}/contacts",
        json={
            "contacts": [{"kind": "other", "value": CONTACT}, {"kind": "other", "value": MESSAGE}]
        },
    )
    assert contacts.status_code == 200, contacts.text
    hidden = next(c for c in contacts.json()["contacts"] if c["value"] == MESSAGE)
    anna_api.http.post(f"/api/clients/{client_id}/contacts/{hidden['id']}/hide")
    anna.reload()
    conversation = anna.get_by_role("region", name=PERSON)
    # A reload fetches everything again; on a busy machine that takes a while.
    expect(conversation.get_by_role("heading", name=PERSON)).to_be_visible(timeout=20_000)
    expect(anna.get_by_role("log").get_by_text(MESSAGE)).to_be_visible()
    panel = anna.get_by_role("complementary", name="Клиент")
    expect(panel.locator(".contact-value").first).to_have_text(CONTACT)
    panel.get_by_role("button", name="Скрытые контакты (1)").click()
    expect(panel.locator("s", has_text=MESSAGE)).to_be_visible()
    assert_inert(anna, "request conversation")

    # Anna answers with markup; the client sees it as text.
    anna.get_by_label("Сообщение", exact=True).fill(MESSAGE + " — ответ")
    anna.get_by_role("button", name="Отправить").click()
    expect(frame.get_by_text(MESSAGE + " — ответ")).to_be_visible()
    assert_inert(widget_frame(site), "widget")
    assert_inert(site, "the client's page")

    # The employees' room: its name, its member's name and their message.
    anna.get_by_role("link", name="Сотрудники").click()
    rooms = anna.get_by_role("navigation", name="Комнаты")
    rooms.get_by_role("link", name=ROOM).click()
    expect(anna.get_by_role("heading", name=ROOM, level=2)).to_be_visible()
    message = anna.get_by_role("log").locator("article", has_text=MESSAGE)
    expect(message).to_contain_text(PERSON)
    details = anna.get_by_role("complementary", name="О комнате")
    expect(details.get_by_text(PERSON)).to_be_visible()
    assert_inert(anna, "room")
