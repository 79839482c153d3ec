"""A client on the demo site and employees in the workspace, each in their own browser."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, FrameLocator, Page, Route, expect

from tests.harness import LiveServer
from tests.widget import topic_time_runs_out


def open_widget(
    app_server: LiveServer, new_context: Callable[..., BrowserContext], locale: str = "ru-RU"
) -> tuple[Page, FrameLocator]:
    page = new_context(locale=locale).new_page()
    page.goto(f"{app_server.base_url}/demo")
    label = "Чат с поддержкой" if locale.startswith("ru") else "Chat with support"
    page.get_by_role("button", name=label).click()
    frame = page.frame_locator("#imp-widget-frame")
    return page, frame


def client_says(frame: FrameLocator, text: str) -> None:
    frame.get_by_label("Сообщение").fill(text)
    frame.get_by_role("button", name="Отправить").click()


def accept_from_queue(employee: Page, client_text: str) -> None:
    employee.get_by_role("link", name="Очередь").click()
    card = employee.get_by_role("listitem").filter(has_text=client_text)
    card.get_by_role("button", name="Принять").click()
    employee.wait_for_url("**/requests/*")


def client_in_hands(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    employee: Page,
    text: str,
    topic: str = "Sales",
) -> tuple[Page, FrameLocator]:
    """A client on the demo page writes ``text`` under ``topic``; ``employee`` accepts it from
    the Queue and is left on the request. Returns the client's page and widget."""
    page, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name=topic).click()
    client_says(frame, text)
    accept_from_queue(employee, text)
    return page, frame


def set_topic_time(app_server: LiveServer, seconds: int) -> None:
    admin = app_server.login("admin")
    site = admin.http.get("/api/admin/resources").json()[0]
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"topic_choice_seconds": seconds})


def test_topic_choice_accept_and_live_exchange(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    emma = logged_in("emma", locale="en-US")  # serves Technical support only
    page, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Technical support").click()
    client_says(frame, "Не работает оплата")
    expect(frame.get_by_text("Пожалуйста, подождите")).to_be_visible()

    emma.get_by_role("link", name="Queue").click()
    card = emma.get_by_role("listitem").filter(has_text="Не работает оплата")
    expect(card).to_contain_text("Technical support")
    expect(card).to_contain_text(f"{app_server.base_url}/demo")
    expect(emma.get_by_role("link", name="Queue").locator(".badge")).to_have_text("1")
    card.get_by_role("button", name="Accept").click()
    emma.wait_for_url("**/requests/*")
    expect(
        frame.get_by_text("Emma Wilson is answering you").or_(
            frame.get_by_text("Вам отвечает Emma Wilson")
        )
    ).to_be_visible()

    emma.get_by_label("Message", exact=True).fill("Hello! <i>Which card?</i>")
    emma.get_by_role("button", name="Send").click()
    expect(frame.get_by_text("Hello! <i>Which card?</i>")).to_be_visible()
    client_says(frame, "Visa")
    expect(emma.get_by_role("log").get_by_text("Visa", exact=True)).to_be_visible()

    # History survives a reload and navigation to another page of the site.
    # The widget stays open across pages of the site.
    page.get_by_role("link", name="Доставка").click()
    page.wait_for_url("**/demo/page-2")
    expect(frame.get_by_text("Hello! <i>Which card?</i>")).to_be_visible()


def test_no_topic_goes_to_the_default_queue_after_the_timeout(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    # Long enough to see the question on a busy machine; then the time runs out at once.
    set_topic_time(app_server, 600)
    olga = logged_in("olga")
    _, frame = open_widget(app_server, new_context)
    client_says(frame, "Просто вопрос")
    expect(frame.get_by_text("Уточните тему")).to_be_visible()
    topic_time_runs_out(app_server, "Просто вопрос")
    expect(frame.get_by_text("Пожалуйста, подождите")).to_be_visible()
    olga.get_by_role("link", name="Очередь").click()
    expect(olga.get_by_role("listitem").filter(has_text="Просто вопрос")).to_contain_text(
        "General questions"
    )


def test_handling_actions(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    olga = logged_in("olga")
    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Вопрос про скидки")

    # Return to queue: it is back in the Queue.
    accept_from_queue(anna, "Вопрос про скидки")
    anna.get_by_role("button", name="Вернуть в очередь").click()
    anna.wait_for_url("**/requests")
    anna.get_by_role("link", name="Очередь").click()
    expect(anna.get_by_role("listitem").filter(has_text="Вопрос про скидки")).to_be_visible()

    # Transfer to queue: Olga (Technical support) sees it.
    accept_from_queue(anna, "Вопрос про скидки")
    anna.get_by_role("button", name="Передать в очередь").click()
    anna.get_by_role("dialog").get_by_label("Очередь").select_option(label="Technical support")
    anna.get_by_role("dialog").get_by_role("button", name="Передать").click()
    anna.wait_for_url("**/requests")
    olga.get_by_role("link", name="Очередь").click()
    olga_card = olga.get_by_role("listitem").filter(has_text="Вопрос про скидки")
    expect(olga_card).to_contain_text("Technical support")

    # Transfer to specialist: Olga gives it to Emma of the technical specialists.
    olga_card.get_by_role("button", name="Принять").click()
    olga.wait_for_url("**/requests/*")
    olga.get_by_role("button", name="Ещё").click()
    olga.get_by_role("menuitem", name="Передать комнату специалисту").click()
    dialog = olga.get_by_role("dialog")
    dialog.get_by_label("Группа").select_option(label="Technical specialists")
    dialog.get_by_label("Специалист").select_option(label="Emma Wilson · Не в сети")
    dialog.get_by_role("button", name="Передать").click()
    emma_requests = app_server.login("emma").http.get("/api/requests/mine").json()
    assert [r["last_message"]["body"] for r in emma_requests] == ["Вопрос про скидки"]

    # Close: the next message opens a new request.
    emma = logged_in("emma", locale="en-US")
    emma.get_by_role("link", name="Requests").click()
    emma.get_by_role("navigation", name="My requests").get_by_role("link").first.click()
    emma.get_by_role("button", name="Close request").click()
    expect(emma.get_by_role("navigation", name="My requests").get_by_role("link")).to_have_count(0)
    client_says(frame, "Ещё вопрос")
    anna.get_by_role("link", name="Очередь").click()
    expect(anna.get_by_role("listitem").filter(has_text="Ещё вопрос")).to_be_visible()


def test_contacts_and_blocking(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Запишите мой телефон")
    accept_from_queue(anna, "Запишите мой телефон")
    panel = anna.get_by_role("complementary", name="Клиент")

    panel.get_by_role("button", name="Добавить контакт").click()
    panel.get_by_label("Контакт", exact=True).fill("+7 900 000-00-00")
    panel.get_by_role("button", name="Обновить").click()
    expect(panel.get_by_role("button", name="Изменить контакт +7 900 000-00-00")).to_be_visible()
    panel.get_by_role("button", name="Добавить контакт").click()
    panel.get_by_label("Тип контакта").select_option("email")
    panel.get_by_label("Контакт", exact=True).fill("client@example.com")
    panel.get_by_role("button", name="Обновить").click()
    expect(panel.get_by_role("button", name="Изменить контакт client@example.com")).to_be_visible()
    expect(panel.get_by_role("alert")).to_have_count(0)
    client_id = app_server.login("anna").http.get("/api/requests/mine").json()[0]["client"]["id"]
    saved = app_server.login("anna").http.get(f"/api/clients/{client_id}").json()["contacts"]
    assert [(c["kind"], c["value"]) for c in saved] == [
        ("phone", "+7 900 000-00-00"),
        ("email", "client@example.com"),
    ]

    # Cancel returns to the last saved state.
    panel.get_by_role("button", name="Изменить контакт +7 900 000-00-00").click()
    panel.get_by_label("Контакт", exact=True).fill("changed")
    panel.get_by_role("button", name="Отменить").click()
    expect(panel.get_by_role("button", name="Изменить контакт +7 900 000-00-00")).to_be_visible()
    expect(panel.get_by_label("Контакт", exact=True)).to_have_count(0)

    # Hide with the icon shown on hover; hidden contacts are in a list that expands.
    panel.get_by_role("button", name="Изменить контакт +7 900 000-00-00").hover()
    panel.get_by_role("button", name="Скрыть контакт +7 900 000-00-00").click()
    toggle = panel.get_by_role("button", name="Скрытые контакты (1)")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(panel.locator("s", has_text="+7 900 000-00-00")).to_be_visible()
    toggle.click()
    expect(panel.locator("s", has_text="+7 900 000-00-00")).to_have_count(0)

    # Block: the client is told politely at once (the block closes their socket) and cannot
    # write any more.
    anna.get_by_role("button", name="Ещё").click()
    anna.get_by_role("menuitem", name="Блокировать").click()
    anna.get_by_role("dialog").get_by_role("button", name="Блокировать").click()
    anna.wait_for_url("**/requests")
    expect(frame.get_by_role("alert")).to_contain_text("больше не можете писать")
    expect(frame.get_by_label("Сообщение")).to_have_count(0)


def test_a_file_still_uploading_goes_with_the_message_sent_at_once(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    page, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Пришлю счёт")
    accept_from_queue(anna, "Пришлю счёт")

    # The upload is held back until the message has been sent: the client pressed "Отправить"
    # while the file was still on its way up.
    held: list[Route] = []
    page.route("**/api/widget/files", lambda route: held.append(route))
    frame.get_by_label("Прикрепить файл").set_input_files(
        files=[{"name": "счёт.txt", "mimeType": "text/plain", "buffer": b"x" * 46}]
    )
    client_says(frame, "Вот счёт")
    page.wait_for_timeout(300)
    assert len(held) == 1
    held[0].continue_()

    history = anna.get_by_role("log", name="История сообщений")
    message = history.get_by_role("article").filter(has_text="Вот счёт")
    expect(message.get_by_text("счёт.txt")).to_be_visible()
    expect(frame.get_by_role("link", name="счёт.txt")).to_be_visible()
