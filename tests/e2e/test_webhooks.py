"""Administration → Webhooks in the Russian UI: a private address refused in words, a hook
made with its secret shown, its deliveries in the log, one sent again with "Повторить"."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.api.test_requests import queue_ids
from tests.api.test_webhooks import settled
from tests.faults.tools import wait_until
from tests.harness import LiveServer
from tests.webhook_receiver import WebhookReceiver
from tests.widget import visit


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_an_administrator_registers_a_webhook_and_reads_its_deliveries(
    app_server: LiveServer, logged_in: Callable[..., Page], receiver: WebhookReceiver
) -> None:
    admin = logged_in("admin")
    admin.goto(f"{app_server.base_url}/admin")
    admin.get_by_role("tab", name="Вебхуки").click()
    expect(admin.get_by_text("Вебхуков пока нет.")).to_be_visible()

    admin.get_by_role("button", name="Новый вебхук").click()
    dialog = admin.get_by_role("dialog", name="Новый вебхук")
    dialog.get_by_label("Адрес", exact=True).fill(receiver.url)
    dialog.get_by_label("Описание").fill("CRM")
    dialog.get_by_role("button", name="Сохранить").click()
    # This installation sends to public addresses only, and says so in Russian.
    expect(dialog.get_by_role("alert")).to_contain_text(
        "Вебхуки отправляются только на публичные адреса, а 127.0.0.1"
    )

    # An on-premises installation allows its own network.
    app_server.services.settings.webhook_allow_private_addresses = True
    dialog.get_by_role("button", name="Сохранить").click()
    shown = admin.get_by_role("dialog", name="Секрет подписи")
    secret = shown.get_by_test_id("webhook-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    shown.get_by_role("button", name="Готово").click()

    row = admin.get_by_role("table", name="Вебхуки").get_by_role("row").filter(has_text="CRM")
    expect(row).to_contain_text("Все события")
    expect(row).to_contain_text("Включён")

    visitor = visit(app_server, origin=f"http://127.0.0.1:{app_server.port}")
    visitor.pick(queue_ids(app_server)["Sales"])
    assert visitor.send("Где мой заказ?").status_code == 201
    wait_until(lambda: len(receiver.received) == 2, 10, "two deliveries")
    assert all(r.signed_with(secret) for r in receiver.received)
    # The receiver answers before the sender records the answer: the log is read once both are
    # recorded.
    (hook,) = app_server.login("admin").http.get("/api/admin/webhooks").json()
    hook_id = hook["id"]
    wait_until(lambda: settled(app_server, hook_id), 10, "both answers recorded")

    row.get_by_role("button", name="Доставки").click()
    log = admin.get_by_role("dialog", name=f"Доставки на {receiver.url}")
    lines = log.get_by_role("table", name="Доставки").get_by_role("row")
    expect(lines).to_have_count(3)
    expect(lines.nth(1)).to_contain_text("Сообщение (клиента или сотрудника)")
    expect(lines.nth(1)).to_contain_text("Доставлено")
    expect(lines.nth(2)).to_contain_text("Заявка создана")

    lines.nth(1).get_by_role("button", name="Повторить").click()
    expect(lines.nth(1)).to_contain_text("Ожидает")
    wait_until(lambda: len(receiver.received) == 3, 10, "the delivery sent again")
    assert receiver.received[2].body == next(
        r.body for r in receiver.received[:2] if r.event == "message.created"
    )
    wait_until(lambda: settled(app_server, hook_id), 10, "the resend's answer recorded")
    log.get_by_role("button", name="Обновить").click()
    expect(lines.nth(1)).to_contain_text("Доставлено")
    expect(lines.nth(1)).to_contain_text("200")
