"""Both sides of a conversation see the other there: typing (with the client's draft where the
website allows it) and read marks, in the widget and the workspace."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.test_widget_requests import client_in_hands
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
