"""Administration → Resources → "Виджет": a website's chat made its own, seen in the preview
as it is chosen and on the site once saved."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.harness import LiveServer


def test_an_administrator_makes_the_chat_the_sites_own(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    admin = logged_in("admin")
    admin.goto(f"{app_server.base_url}/admin")
    admin.get_by_role("tab", name="Ресурсы").click()
    site = admin.get_by_role("article", name="Demo website")
    site.get_by_role("button", name="Виджет").click()
    dialog = admin.get_by_role("dialog", name="Виджет на сайте «Demo website»")
    preview = dialog.get_by_test_id("widget-preview")
    dialog.get_by_label("Цвет").fill("#0b7a4b")
    dialog.get_by_label("Расположение").select_option("left")
    dialog.get_by_label("Надпись на кнопке").fill("Спросить магазин")
    dialog.get_by_label("Заголовок чата").fill("Магазин «Ромашка»")
    dialog.get_by_label("Приветствие до первого сообщения").fill(
        "Отвечаем с 9 до 21 <b>каждый день</b>"
    )
    # The preview follows the form before anything is saved.
    expect(preview.locator("header")).to_have_text("Магазин «Ромашка»")
    expect(preview.locator("header")).to_have_css("background-color", "rgb(11, 122, 75)")
    expect(preview).to_contain_text("Отвечаем с 9 до 21 <b>каждый день</b>")
    expect(preview).to_contain_text("Спросить магазин")
    expect(preview).to_have_class("preview left")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog).to_be_hidden()

    page = new_context(locale="ru-RU").new_page()
    page.goto(f"{app_server.base_url}/demo")
    launcher = page.get_by_role("button", name="Спросить магазин")
    expect(launcher).to_have_css("background-color", "rgb(11, 122, 75)")
    box = launcher.bounding_box()
    assert box is not None and box["x"] < 100, box  # bottom left
    launcher.click()
    frame = page.frame_locator("#imp-widget-frame")
    expect(frame.locator(".widget-header strong")).to_have_text("Магазин «Ромашка»")
    expect(frame.locator(".widget-header")).to_have_css("background-color", "rgb(11, 122, 75)")
    # The greeting is shown as text, never as HTML.
    expect(frame.get_by_text("Отвечаем с 9 до 21 <b>каждый день</b>")).to_be_visible()
    frame_box = page.locator("#imp-widget-frame").bounding_box()
    assert frame_box is not None and frame_box["x"] < 100, frame_box

    # English for every visitor, whatever the page's language.
    admin.reload()
    admin.get_by_role("tab", name="Ресурсы").click()
    admin.get_by_role("article", name="Demo website").get_by_role("button", name="Виджет").click()
    dialog.get_by_label("Язык чата").select_option("en")
    expect(preview).to_contain_text("Let me have a look")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog).to_be_hidden()
    page.reload()  # the chat stays open across pages, now in English
    expect(frame.get_by_label("Message", exact=True)).to_be_visible()
    expect(frame.get_by_role("button", name="Send")).to_be_visible()
