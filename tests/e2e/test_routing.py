"""Routing in the workspace: the status switch beside the bell, a colleague seeing it, and a
request that reaches the least busy Online employee without anyone pressing "Принять"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import update

from impserver.core.clock import utcnow
from impserver.domains.requests.models import ClientRequest
from tests.e2e.administration import demo_site_card
from tests.e2e.test_widget_requests import client_says, open_widget
from tests.e2e.test_workspace_polish import client_request
from tests.harness import LiveServer
from tests.routing.team import Team, new_team
from tests.widget import demo_site

VIEWPORT = {"width": 1366, "height": 768}


def open_workspace(
    team: Team, new_context: Callable[..., BrowserContext], name: str, path: str = "/queue"
) -> Page:
    server = team.server
    login = team.members[name].me["login"]
    page = new_context(locale="ru-RU", viewport=VIEWPORT).new_page()
    page.goto(f"{server.base_url}/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(f"{login}-secret-pw")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/queue")
    page.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")
    if path != "/queue":
        page.goto(f"{server.base_url}{path}")
    return page


def test_status_switch_is_seen_by_a_colleague_and_routing_skips_the_away(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    team = new_team(app_server, "ann", "bob")
    team.route(mode="automatic")
    room = (
        team.members["bob"]
        .http.post("/api/rooms/direct", json={"employee_id": team.ids["ann"]})
        .json()
    )

    ann = open_workspace(team, new_context, "ann")
    bob = open_workspace(team, new_context, "bob", f"/employees/{room['id']}")
    ann_dot = bob.locator("ul.members li", has_text="Ann").get_by_role("img")
    # Opening the workspace made both Online.
    expect(ann_dot).to_have_accessible_name("В сети")
    expect(ann.get_by_label("Статус")).to_have_value("online")

    ann.get_by_label("Статус").select_option(label="Отошёл")
    expect(ann_dot).to_have_accessible_name("Отошёл")

    # Ann is Away: the client's request goes to Bob, nobody pressing "Принять".
    _, request_id = team.client_writes("Здравствуйте, где мой заказ?")
    bob.get_by_role("navigation", name="Рабочее место").get_by_role(
        "link", name="Обращения"
    ).click()
    expect(bob.locator(f'a[href="/requests/{request_id}"]')).to_be_visible()
    bob.locator(f'a[href="/requests/{request_id}"]').click()
    expect(bob.get_by_text("Обращение назначено автоматически: Bob")).to_be_visible()
    expect(bob.get_by_text("Здравствуйте, где мой заказ?")).to_be_visible()
    assert team.mine("ann") == []


def test_the_widget_shows_the_place_in_the_queue_falling_as_requests_ahead_are_taken(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    sales = next(q for q in demo_site(app_server)["queues"] if q["name"] == "Sales")
    ahead = [client_request(app_server, sales["id"], [f"Впереди {i}"])[0] for i in (1, 2)]
    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "А я третий")
    place = frame.get_by_role("banner").get_by_role("status")
    expect(place).to_have_text("Вы 3-й в очереди")

    anna = app_server.login("anna")
    assert anna.http.post(f"/api/requests/{ahead[0]}/accept").status_code == 200
    # The first wait taken gives the estimate: a short one.
    expect(place).to_have_text("Вы 2-й в очереди, ожидание меньше минуты")
    assert anna.http.post(f"/api/requests/{ahead[1]}/accept").status_code == 200
    expect(place).to_have_text("Вы 1-й в очереди, ожидание меньше минуты")


def test_a_long_wait_turns_the_queue_card_red(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    team = new_team(app_server, "ann")
    team.route(mode="manual", wait_amber_minutes=5, wait_red_minutes=15)
    _, fresh = team.client_writes("Только что")
    _, old = team.client_writes("Давно жду")

    async def twenty_minutes_ago() -> None:
        async with app_server.services.db.transaction() as uow:
            await uow.session.execute(
                update(ClientRequest)
                .where(ClientRequest.id == old)
                .values(waiting_since=utcnow() - timedelta(minutes=20))
            )

    app_server.run(twenty_minutes_ago())
    ann = open_workspace(team, new_context, "ann")
    old_card = ann.locator(f'[data-request-id="{old}"]')
    expect(old_card.locator(".wait-clock")).to_have_text("ждёт 20 мин")
    expect(old_card.locator(".wait-clock")).to_have_attribute("data-wait", "red")
    fresh_clock = ann.locator(f'[data-request-id="{fresh}"] .wait-clock')
    expect(fresh_clock).to_have_text("ждёт меньше минуты")
    expect(fresh_clock).to_have_attribute("data-wait", "calm")


def test_outside_working_hours_the_widget_takes_a_message_for_the_morning(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    # The administrator sets the demo website's hours: weekdays 09-18, and a fortnight off.
    admin = logged_in("admin")
    site = demo_site_card(admin)
    site.get_by_role("button", name="Часы работы").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("Работаем по расписанию").check()
    dialog.get_by_label("Часовой пояс").fill("Europe/Moscow")
    for day in ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница"):
        dialog.get_by_label(day).fill("09:00-18:00")
    dialog.get_by_label("Суббота").fill("9 до 5")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Часы работы пишутся так: 09:00-13:00, 14:00-18:00."
    )
    dialog.get_by_label("Суббота").fill("")
    today = utcnow().date()
    fortnight = "\n".join((today + timedelta(days=i)).isoformat() for i in range(14))
    dialog.get_by_label("Нерабочие дни").fill(fortnight)
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog).to_have_count(0)

    _, frame = open_widget(app_server, new_context)
    form = frame.get_by_role("form", name="Сообщение вне рабочего времени")
    expect(form.get_by_role("status")).to_contain_text("Сейчас мы не работаем. Вернёмся")
    form.get_by_label("Ваше имя").fill("Ирина")
    form.get_by_label("Сообщение").fill("Перезвоните утром")
    form.get_by_role("button", name="Оставить сообщение").click()
    expect(frame.get_by_role("alert")).to_have_text(
        "Укажите электронную почту или телефон, чтобы мы могли ответить."
    )
    form.get_by_label("Электронная почта").fill("irina@example.com")
    form.get_by_role("button", name="Оставить сообщение").click()
    expect(frame.get_by_role("log").get_by_text("Перезвоните утром")).to_be_visible()
    expect(form).to_have_count(0)

    anna = logged_in("anna")
    card = anna.get_by_role("listitem").filter(has_text="Перезвоните утром")
    expect(card.get_by_text("вне рабочего времени")).to_be_visible()
    expect(card.get_by_role("heading")).to_have_text("Ирина")
