"""Administration → API tokens in the Russian UI: a token made, its secret shown once and
working, then revoked."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

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
