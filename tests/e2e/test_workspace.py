"""The workspace shell in a real browser: login, sections, theme, language, do-not-disturb,
administration, and realtime delivery across a dropped socket."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.administration import demo_site_card
from tests.harness import LiveServer


def test_login_shows_the_three_sections(logged_in: Callable[..., Page]) -> None:
    page = logged_in("anna")
    for label in ("Очередь", "Обращения", "Сотрудники"):
        expect(page.get_by_role("link", name=label)).to_be_visible()
    expect(page.get_by_text("Анна Смирнова")).to_be_visible()
    # Not an admin: no administration link.
    expect(page.get_by_role("link", name="Администрирование")).to_have_count(0)


def test_wrong_password_shows_a_readable_error(
    app_server: LiveServer, new_context: Callable[..., object]
) -> None:
    page = new_context(locale="en-US").new_page()  # type: ignore[attr-defined]
    page.goto(f"{app_server.base_url}/login")
    page.get_by_label("Login").fill("anna")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong login or password.")


def test_theme_switch_persists_for_the_employee(logged_in: Callable[..., Page]) -> None:
    page = logged_in("anna")
    page.get_by_role("button", name="Тёмная тема").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.get_by_role("button", name="Светлая тема").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name="Тёмная тема").click()
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("button", name="Светлая тема")).to_be_visible()


def test_language_switch_changes_every_label(logged_in: Callable[..., Page]) -> None:
    page = logged_in("anna")
    page.get_by_label("Язык").select_option("en")
    for label in ("Queue", "Requests", "Employees"):
        expect(page.get_by_role("link", name=label)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.get_by_role("link", name="Requests")).to_be_visible()
    expect(page.get_by_role("button", name="Do not disturb")).to_be_visible()


def test_do_not_disturb_set_shown_and_cleared(logged_in: Callable[..., Page]) -> None:
    page = logged_in("anna")
    page.get_by_role("button", name="Не беспокоить").click()
    page.get_by_role("menuitem", name="2 часа").click()
    note = page.get_by_text(re.compile("Уведомления включатся"))
    expect(note).to_be_visible()
    expected_hour = time.localtime(time.time() + 2 * 3600).tm_hour
    expect(note).to_contain_text(f"{expected_hour:02d}:")
    # The state is the employee's: it survives a reload and shows in another tab.
    page.reload()
    expect(page.get_by_role("button", name="Уведомления выключены — включить")).to_be_visible()
    assert page.evaluate("() => window.__imp !== undefined")
    page.get_by_role("button", name="Уведомления выключены — включить").click()
    expect(page.get_by_role("button", name="Не беспокоить")).to_be_visible()
    expect(note).to_have_count(0)


def test_do_not_disturb_reaches_the_other_tab(logged_in: Callable[..., Page]) -> None:
    first = logged_in("olga")
    second = first.context.new_page()
    second.goto(first.url)
    expect(second.get_by_role("button", name="Не беспокоить")).to_be_visible()
    second.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")
    first.get_by_role("button", name="Не беспокоить").click()
    first.get_by_role("menuitem", name="30 минут").click()
    expect(second.get_by_role("button", name="Уведомления выключены — включить")).to_be_visible()


def test_admin_creates_a_queue_and_grants_access(
    logged_in: Callable[..., Page], app_server: LiveServer
) -> None:
    admin = logged_in("admin")
    site = demo_site_card(admin)
    site.get_by_role("button", name="Добавить очередь").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("Название очереди").fill("VIP")
    dialog.get_by_role("button", name="Создать").click()
    expect(site.get_by_text("VIP", exact=True)).to_be_visible()

    admin.get_by_role("tab", name="Сотрудники").click()
    row = admin.locator("tr[data-login='emma']")
    row.get_by_role("button", name="Очереди").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("VIP").check()
    dialog.get_by_role("button", name="Сохранить").click()
    expect(row).to_contain_text("Demo website: VIP")

    emma = app_server.login("emma")
    served = [q["name"] for q in emma.http.get("/api/queues").json()]
    assert "VIP" in served


def test_admin_error_is_shown_in_the_dialog(logged_in: Callable[..., Page]) -> None:
    admin = logged_in("admin")
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("button", name="Новый сотрудник").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("Логин").fill("anna")
    dialog.get_by_label("Имя").fill("Another Anna")
    dialog.get_by_label("Пароль").fill("long-enough-1")
    dialog.get_by_role("button", name="Создать").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Логин «anna» уже занят.")


def test_non_admin_is_kept_out_of_administration(
    logged_in: Callable[..., Page], app_server: LiveServer
) -> None:
    page = logged_in("boris")
    page.goto(f"{app_server.base_url}/admin")
    expect(page).to_have_url(re.compile(r"/queue$"))


def connections_of(server: LiveServer, employee_id: int) -> int:
    return sum(1 for c in server.services.gateway.connections() if c.employee_id == employee_id)


def test_tab_receives_what_happened_while_its_socket_was_down(
    logged_in: Callable[..., Page], app_server: LiveServer
) -> None:
    first = logged_in("anna")
    second = first.context.new_page()
    second.goto(first.url)
    second.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")
    anna_id = app_server.login("anna").me["id"]
    # Cut the network of the tabs and drop their sockets from the server side.
    first.context.set_offline(True)
    for connection in app_server.services.gateway.connections():
        if connection.employee_id == anna_id:
            app_server.run(_drop(connection))
    second.wait_for_function("() => window.__imp?.realtime.state.value === 'reconnecting'")
    assert connections_of(app_server, anna_id) == 0
    # Meanwhile the theme changes (from another device).
    other_device = app_server.login("anna")
    other_device.http.patch("/api/me", json={"theme": "dark"})
    first.context.set_offline(False)
    expect(second.locator("html")).to_have_attribute("data-theme", "dark", timeout=20_000)
    second.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")


async def _drop(connection: object) -> None:
    await connection.websocket.close(1012, "test drop")  # type: ignore[attr-defined]
