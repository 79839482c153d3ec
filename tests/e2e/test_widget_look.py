"""Administration → Resources → "Виджет": a website's chat made its own, seen in the preview
as it is chosen and on the site once saved."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.administration import demo_site_card
from tests.e2e.language_check import assert_no_latin_words
from tests.e2e.media import content_frame
from tests.e2e.test_widget_requests import client_in_hands
from tests.harness import LiveServer
from tests.pictures import picture


def allowed_words_of(app_server: LiveServer) -> list[str]:
    """The demo's names, which stay as they are in any language."""
    admin = app_server.login("admin").http
    names = [e["name"] for e in admin.get("/api/admin/employees").json()]
    for resource in admin.get("/api/admin/resources").json():
        names += [
            resource["name"],
            *resource["site_origins"],
            *(q["name"] for q in resource["queues"]),
        ]
    return names


def test_an_administrator_makes_the_chat_the_sites_own(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    admin = logged_in("admin")
    site = demo_site_card(admin)
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


def test_the_client_sees_the_employees_photo_unless_the_site_hides_the_employee(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    name = app_server.login("anna").http.get("/api/me").json()["name"]
    anna.get_by_role("button", name=f"Профиль: {name}").click()
    profile = anna.get_by_role("dialog", name="Профиль")
    expect(profile.get_by_text("Фото пока нет.")).to_be_visible()
    assert_no_latin_words(anna, "the profile dialog", allowed_words_of(app_server))
    # Not a picture: refused, in the workspace's words.
    profile.get_by_label("Загрузить фото").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": b"not a picture at all"}
    )
    expect(profile.get_by_role("alert")).to_have_text(
        "Фото должно быть картинкой PNG, JPEG, WebP или GIF."
    )
    profile.get_by_label("Загрузить фото").set_input_files(
        {"name": "я.png", "mimeType": "image/png", "buffer": picture(300, 200, color="orange")}
    )
    photo = profile.get_by_role("img", name=f"Фото: {name}")
    expect(photo).to_be_visible()
    expect(profile.get_by_role("alert")).to_have_count(0)
    expect(photo).to_have_js_property("naturalWidth", 160)
    profile.get_by_role("button", name="Закрыть").click()
    expect(profile).to_be_hidden()

    page, frame = client_in_hands(app_server, new_context, anna, "Покажитесь, пожалуйста")
    anna.get_by_label("Сообщение", exact=True).fill("Здравствуйте! Это я.")
    anna.get_by_role("button", name="Отправить").click()
    reply = frame.locator(".bubble").filter(has_text="Здравствуйте! Это я.")
    avatar = reply.get_by_role("img", name=f"Фото: {name}")
    expect(avatar).to_be_visible()
    expect(reply.locator(".who")).to_have_text(name)
    # Loaded, not just placed: a picture that failed would have no width of its own.
    expect(avatar).to_have_js_property("naturalWidth", 160)
    widget = content_frame(page, "#imp-widget-frame")
    assert_no_latin_words(widget, "a reply with the employee's photo", allowed_words_of(app_server))

    # The administrator hides the employee: the preview loses its sample, the chat its name
    # and photo on replies.
    admin = logged_in("admin")
    demo_site_card(admin).get_by_role("button", name="Виджет").click()
    dialog = admin.get_by_role("dialog", name="Виджет на сайте «Demo website»")
    preview = dialog.get_by_test_id("widget-preview")
    expect(preview.get_by_test_id("preview-employee")).to_be_visible()
    switch = dialog.get_by_label("Показывать имя и фото сотрудника в ответах")
    expect(switch).to_be_checked()
    switch.uncheck()
    expect(preview.get_by_test_id("preview-employee")).to_have_count(0)
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog).to_be_hidden()
    page.reload()
    reply = frame.locator(".bubble").filter(has_text="Здравствуйте! Это я.")
    expect(reply).to_be_visible()
    expect(reply.get_by_role("img")).to_have_count(0)
    expect(reply.locator(".who")).to_have_count(0)
    expect(reply).not_to_contain_text(name)
