"""A blocked website client cannot come back by clearing the browser: blocked from the
workspace with a period, they open the widget again with no stored session on the same network
and meet the notice, and no request reaches the queue.

IMP here sits behind a reverse proxy on 127.0.0.1 (IMP_TRUSTED_PROXIES); each client's browser
goes through it, so each request carries the client's public address in X-Forwarded-For.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Page, expect

from impserver.demo import seed_demo
from tests.e2e.conftest import WEB_DIST
from tests.e2e.test_widget_requests import accept_from_queue, client_says
from tests.harness import LiveServer, free_port

ABUSER = "203.0.113.7"


@pytest.fixture
def app_server(settings_factory: object) -> Iterator[LiveServer]:
    settings = settings_factory(  # type: ignore[operator]
        "sqlite",
        web_dist=WEB_DIST,
        ws_ping_seconds=20.0,
        ws_dead_after_seconds=60.0,
        trusted_proxies="127.0.0.1",
    )
    live = LiveServer(settings, free_port())
    live.settings.public_base_url = f"http://127.0.0.1:{live.port}"
    live.start()
    live.run(seed_demo(live.services, site_origin=live.base_url, language="ru"))
    yield live
    live.stop()


def widget_from(
    app_server: LiveServer, new_context: Callable[..., BrowserContext], address: str
) -> FrameLocator:
    """A fresh browser (nothing stored) of a client at ``address`` on the demo site."""
    context = new_context(locale="ru-RU", extra_http_headers={"X-Forwarded-For": address})
    page = context.new_page()
    page.goto(f"{app_server.base_url}/demo")
    page.get_by_role("button", name="Чат с поддержкой").click()
    return page.frame_locator("#imp-widget-frame")


def test_a_blocked_client_meets_the_notice_after_clearing_the_browser(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    frame = widget_from(app_server, new_context, ABUSER)
    frame.get_by_role("button", name="Продажи").click()
    client_says(frame, "Пишу гадости")
    accept_from_queue(anna, "Пишу гадости")

    anna.get_by_role("button", name="Ещё").click()
    anna.get_by_role("menuitem", name="Блокировать").click()
    dialog = anna.get_by_role("dialog")
    expect(dialog.get_by_label("Клиент и его контакты")).to_have_value("forever")
    expect(dialog.get_by_label("Адрес клиента в сети")).to_have_value("1d")
    dialog.get_by_label("Адрес клиента в сети").select_option(label="на 1 неделю")
    dialog.get_by_label("Причина (необязательно)").fill("Оскорбления")
    dialog.get_by_role("button", name="Блокировать").click()
    anna.wait_for_url("**/requests")

    # Site data cleared (a new browser context): the same network meets the notice.
    again = widget_from(app_server, new_context, ABUSER)
    expect(again.get_by_role("alert")).to_contain_text("больше не можете писать")
    expect(again.get_by_label("Сообщение")).to_have_count(0)
    anna.get_by_role("link", name="Очередь").click()
    expect(anna.get_by_text("Нет ожидающих обращений")).to_be_visible()

    # Someone else on another network writes as usual.
    neighbour = widget_from(app_server, new_context, "198.51.100.20")
    neighbour.get_by_role("button", name="Продажи").click()
    client_says(neighbour, "Добрый день")
    expect(anna.get_by_role("listitem").filter(has_text="Добрый день")).to_be_visible()

    # The block list shows what the block covers; the address part is lifted on its own.
    admin = logged_in("admin")
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("tab", name="Заблокированные клиенты").click()
    row = admin.get_by_role("row").filter(has_text="Оскорбления")
    address = row.locator("li[data-part=address]")
    expect(address).to_contain_text(f"Адрес {ABUSER}/32 — до ")
    expect(address).to_contain_text("отказов: 1")
    expect(row.locator("li[data-part=visitor]")).to_contain_text("Клиент — навсегда")
    row.get_by_role("button", name=f"Снять блокировку: Адрес {ABUSER}/32").click()
    expect(row.locator("li[data-part=address]")).to_have_count(0)
    expect(row.locator("li[data-part=visitor]")).to_be_visible()

    # With the address lifted, a new person on that network may write again.
    after = widget_from(app_server, new_context, ABUSER)
    expect(after.get_by_label("Сообщение")).to_be_visible()
