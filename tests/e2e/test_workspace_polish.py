"""The workspace as a support team lives in it, in the Russian UI at 1366×768."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect

from impserver.domains.requests.actions import client_sends
from tests.harness import LiveServer, Session
from tests.widget import demo_site, visit

VIEWPORT = {"width": 1366, "height": 768}


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

    anna = open_workspace(app_server, new_context, "anna", f"/employees/{room['id']}")
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

    # Elsewhere, the client's messages are counted, one each.
    anna.get_by_role("link", name="Очередь").click()
    write(app_server, client_id, "Жду ответа")
    expect(requests_link(anna)).to_have_accessible_name("Обращения Непрочитанных: 1")
    anna.get_by_role("link", name="Обращения").click()
    anna.get_by_role("navigation", name="Мои обращения").get_by_role("link").first.click()
    expect(requests_link(anna)).to_have_accessible_name("Обращения")
