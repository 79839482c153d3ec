"""Administration → API tokens in the Russian UI: a token made, its secret shown once and
working, then revoked; what an integration does shows in the employee's request."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.test_widget_requests import client_in_hands
from tests.harness import LiveServer


def test_an_administrator_makes_and_revokes_a_token(
    app_server: LiveServer, logged_in: Callable[..., Page]
) -> None:
    admin = logged_in("admin")
    admin.goto(f"{app_server.base_url}/admin")
    admin.get_by_role("tab", name="API-токены").click()
    expect(admin.get_by_text("API-токенов пока нет.")).to_be_visible()

    admin.get_by_role("button", name="Новый токен").click()
    dialog = admin.get_by_role("dialog", name="Новый API-токен")
    dialog.get_by_label("Название").fill("CRM")
    dialog.get_by_label("Запись").check()
    dialog.get_by_role("button", name="Создать").click()

    shown = admin.get_by_role("dialog", name="Токен «CRM» создан")
    expect(shown.get_by_role("button", name="Копировать")).to_be_visible()
    secret = shown.get_by_test_id("api-token-secret").inner_text().strip()
    assert secret.startswith("imp_")
    shown.get_by_role("button", name="Готово").click()
    expect(shown).to_have_count(0)

    table = admin.get_by_role("table", name="API-токены")
    row = table.get_by_role("row").filter(has_text="CRM")
    expect(row).to_contain_text(secret[:10] + "…")
    expect(row).to_contain_text("Чтение, Запись")
    expect(row).to_contain_text("Все ресурсы")
    # Shown once: not on the page any more.
    expect(admin.get_by_text(secret)).to_have_count(0)

    http = app_server.client()
    http.headers["Authorization"] = f"Bearer {secret}"
    assert http.get("/api/v1/clients").status_code == 200

    row.get_by_role("button", name="Отозвать").click()
    confirm = admin.get_by_role("dialog", name="Отозвать токен «CRM»?")
    confirm.get_by_role("button", name="Отозвать").click()
    expect(row).to_contain_text("Отозван")
    assert http.get("/api/v1/clients").status_code == 401


def test_the_employee_sees_what_an_integration_did_for_them(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    _, frame = client_in_hands(app_server, new_context, anna, "Где мой заказ?")
    request_id = int(anna.url.rsplit("/", 1)[1])

    made = app_server.login("admin").http.post(
        "/api/admin/api-tokens", json={"name": "CRM", "scopes": ["write"]}
    )
    http = app_server.client()
    http.headers["Authorization"] = f"Bearer {made.json()['secret']}"
    sent = http.post(f"/api/v1/requests/{request_id}/messages", json={"body": "Заказ в пути"})
    assert sent.status_code == 201, sent.text

    reply = anna.get_by_role("article").filter(has_text="Заказ в пути")
    expect(reply).to_contain_text("через API: CRM")
    # The client reads the reply, not where it came from.
    expect(frame.get_by_text("Заказ в пути")).to_be_visible()
    expect(frame.get_by_text("через API")).to_have_count(0)
