"""Co-browsing: the client's demo-shop page live in the employee's window, under their control."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.test_widget_requests import client_in_hands
from tests.harness import LiveServer

SECRET = "s3cr3t-Pa55"


def start_cobrowse(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
):  # type: ignore[no-untyped-def]
    anna = logged_in("anna")
    page, frame = client_in_hands(app_server, new_context, anna, "Помогите оформить заказ")
    return anna, page, frame


def test_decline(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, _, frame = start_cobrowse(app_server, new_context, logged_in)
    with anna.expect_popup() as popup:
        anna.get_by_role("button", name="Совместный просмотр").click()
    popup.value.close()
    frame.get_by_role("button", name="Отклонить").click()
    expect(anna.get_by_text("Клиент отклонил приглашение.")).to_be_visible()


def test_cobrowse_live_control_masking_and_navigation(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, page, frame = start_cobrowse(app_server, new_context, logged_in)
    with anna.expect_popup() as popup:
        anna.get_by_role("button", name="Совместный просмотр").click()
    window = popup.value
    expect(window.get_by_text("Ждём клиента…")).to_be_visible()
    frame.get_by_role("button", name="Разрешить").click()
    expect(page.get_by_text("Эта страница показывается сотруднику")).to_be_visible()
    expect(frame.get_by_text("Эта страница показывается сотруднику")).to_be_visible()

    replay = window.frame_locator(".cobrowse-stage iframe")
    expect(replay.get_by_role("heading", name="Добро пожаловать в демо-магазин")).to_be_visible()

    # The client types: the employee sees it; the password never leaves the client's browser.
    page.get_by_label("Имя").fill("Мария")
    expect(replay.locator("#name")).to_have_value("Мария")
    page.get_by_label("Пароль").fill(SECRET)
    page.get_by_label("Номер карты").fill("4111 1111 1111 1111")
    window.wait_for_timeout(800)
    frames = window.evaluate("() => window.__impCobrowseFrames.join('\\n')")
    assert SECRET not in frames
    assert "4111" not in frames

    # The employee clicks a button on the replayed page: the client's page reacts.
    overlay = window.get_by_role("application", name="Страница клиента")
    box = replay.locator("#add").bounding_box()
    assert box is not None
    overlay.click(
        position={
            "x": box["x"] + box["width"] / 2,
            "y": box["y"] + box["height"] / 2 - overlay.bounding_box()["y"],
        }
    )  # type: ignore[index]
    expect(page.locator("#counter")).to_have_text("1")
    expect(replay.locator("#counter")).to_have_text("1")

    # The employee types into a field: the client's field holds the text.
    field = replay.locator("#email").bounding_box()
    assert field is not None
    overlay.click(
        position={
            "x": field["x"] + 10,
            "y": field["y"] + field["height"] / 2 - overlay.bounding_box()["y"],
        }
    )  # type: ignore[index]
    window.keyboard.type("ivan@example.com", delay=30)
    expect(page.get_by_label("E-mail")).to_have_value("ivan@example.com")

    # Navigation to another page of the site continues the session.
    page.get_by_role("link", name="Доставка").click()
    expect(replay.get_by_role("heading", name="Доставка")).to_be_visible()

    # The client stops from the floating element: it ends for both.
    page.get_by_role("button", name="Остановить").click()
    expect(window.get_by_text("Совместный просмотр завершён.")).to_be_visible()
    expect(page.get_by_text("Эта страница показывается сотруднику")).to_have_count(0)


def test_employee_ends_cobrowsing(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, page, frame = start_cobrowse(app_server, new_context, logged_in)
    with anna.expect_popup() as popup:
        anna.get_by_role("button", name="Совместный просмотр").click()
    window = popup.value
    frame.get_by_role("button", name="Разрешить").click()
    heading = window.frame_locator(".cobrowse-stage iframe").get_by_role(
        "heading", name="Добро пожаловать в демо-магазин"
    )
    expect(heading).to_be_visible()
    # Frames are relayed, not kept: a window that connects after the first snapshot went out
    # (here, reloaded) gets a fresh one from the client's page.
    window.reload()
    expect(heading).to_be_visible()
    window.get_by_role("button", name="Завершить просмотр").click()
    expect(page.get_by_text("Эта страница показывается сотруднику")).to_have_count(0)
