"""The employee's tools for the day, in the Russian UI: canned replies, notes, tags,
formatting, mentions, replies to messages and pictures."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.test_rooms import create_room, open_employees
from tests.e2e.test_widget_requests import (
    accept_from_queue,
    client_in_hands,
    client_says,
    open_widget,
)
from tests.harness import LiveServer
from tests.pictures import picture


def create_reply_on_page(anna: Page, code: str, text: str) -> None:
    anna.get_by_role("button", name="Новый шаблон").click()
    dialog = anna.get_by_role("dialog", name="Новый шаблон ответа")
    dialog.get_by_label("Код").fill(code)
    dialog.get_by_label("Текст").fill(text)
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog).to_have_count(0)


def test_slash_inserts_a_canned_reply_with_the_clients_name(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    anna.get_by_role("link", name="Шаблоны").click()
    anna.wait_for_url("**/replies")
    expect(anna.get_by_text("Шаблонов пока нет.")).to_be_visible()
    create_reply_on_page(anna, "Привет", "Здравствуйте, {клиент}! Меня зовут {сотрудник}. {заказ}")
    create_reply_on_page(anna, "спасибо", "Спасибо, что написали в {ресурс}!")
    # A code twice is refused, in the reader's language.
    anna.get_by_role("button", name="Новый шаблон").click()
    dialog = anna.get_by_role("dialog", name="Новый шаблон ответа")
    dialog.get_by_label("Код").fill("привет")
    dialog.get_by_label("Текст").fill("ещё один")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog.get_by_role("alert")).to_have_text("Код /привет здесь уже занят.")
    dialog.get_by_role("button", name="Отмена").click()
    table = anna.get_by_role("table", name="Шаблоны ответов")
    expect(table.get_by_role("row")).to_have_count(3)
    anna.get_by_label("Поиск по коду и тексту").fill("ресурс")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table.get_by_text("/спасибо")).to_be_visible()

    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Где мой заказ?")
    anna.get_by_role("link", name="Рабочее место").click()
    accept_from_queue(anna, "Где мой заказ?")
    request_id = int(anna.url.rsplit("/", 1)[1])
    client_id = app_server.login("anna").http.get(f"/api/requests/{request_id}").json()
    named = app_server.login("anna").http.patch(
        f"/api/clients/{client_id['client']['id']}", json={"display_name": "Иван"}
    )
    assert named.status_code == 200, named.text

    composer = anna.get_by_label("Сообщение")
    suggestions = anna.get_by_role("listbox", name="Шаблоны ответов")
    composer.press_sequentially("/пр")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    expect(suggestions.get_by_role("option").first).to_contain_text("/привет")
    composer.press("Enter")
    expect(suggestions).to_have_count(0)
    # Known variables filled; an unknown one left for the employee to notice.
    expect(composer).to_have_value("Здравствуйте, Иван! Меня зовут Анна Смирнова. {заказ}")

    # Esc closes the list and leaves the text alone.
    composer.fill("")
    composer.press_sequentially("Итак /")
    expect(suggestions.get_by_role("option")).to_have_count(2)
    composer.press("ArrowDown")
    expect(suggestions.get_by_role("option", selected=True)).to_contain_text("/спасибо")
    composer.press("Escape")
    expect(suggestions).to_have_count(0)
    expect(composer).to_have_value("Итак /")

    # The mouse way: the button opens the list, a click inserts.
    composer.fill("")
    anna.get_by_role("button", name="Вставить шаблон ответа").click()
    suggestions.get_by_role("option").filter(has_text="/спасибо").click()
    expect(composer).to_have_value("Спасибо, что написали в Demo website!")
    composer.press("Enter")
    expect(frame.get_by_text("Спасибо, что написали в Demo website!")).to_be_visible()


def test_a_note_is_seen_by_a_colleague_after_transfer_and_never_by_the_client(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, olga = logged_in("anna"), logged_in("olga")
    page, frame = client_in_hands(app_server, new_context, anna, "Не работает промокод")

    note_text = "Промокод истёк вчера, продлить через маркетинг"
    anna.get_by_role("switch", name="Заметка").check()
    composer = anna.get_by_label("Сообщение")
    expect(composer).to_have_attribute(
        "placeholder", "Заметка для сотрудников — клиент её не увидит"
    )
    composer.fill(note_text)
    composer.press("Enter")
    history = anna.get_by_role("log", name="История сообщений")
    note = history.get_by_role("article").filter(has_text=note_text)
    expect(note.get_by_text("Заметка для сотрудников")).to_be_visible()

    anna.get_by_role("switch", name="Заметка").uncheck()
    composer.fill("Сейчас проверю")
    composer.press("Enter")
    expect(frame.get_by_text("Сейчас проверю")).to_be_visible()
    expect(frame.get_by_text(note_text)).to_have_count(0)
    page.reload()  # the widget opens again as it was, its history fetched anew
    expect(frame.get_by_text("Сейчас проверю")).to_be_visible()
    expect(frame.get_by_text(note_text)).to_have_count(0)

    anna.get_by_role("button", name="Передать в очередь").click()
    anna.get_by_role("dialog").get_by_label("Очередь").select_option(label="Technical support")
    anna.get_by_role("dialog").get_by_role("button", name="Передать").click()
    anna.wait_for_url("**/requests")
    accept_from_queue(olga, "Сейчас проверю")  # the card shows the newest message
    colleague_sees = olga.get_by_role("log", name="История сообщений").get_by_role("article")
    expect(
        colleague_sees.filter(has_text=note_text).get_by_text("Заметка для сотрудников")
    ).to_be_visible()


def test_a_tag_put_on_a_request_filters_the_list(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    admin = logged_in("admin")
    admin.goto(f"{app_server.base_url}/admin")
    admin.get_by_role("tab", name="Теги").click()
    for name in ("Возврат", "VIP"):
        admin.get_by_role("button", name="Новый тег").click()
        dialog = admin.get_by_role("dialog", name="Новый тег")
        dialog.get_by_label("Название").fill(name)
        dialog.get_by_role("button", name="Сохранить").click()
        expect(dialog).to_have_count(0)
    expect(admin.get_by_role("list", name="Теги").get_by_role("listitem")).to_have_count(2)

    anna = logged_in("anna")
    frames = []
    for text in ("Хочу вернуть чайник", "Когда доставка?"):
        _, frame = client_in_hands(app_server, new_context, anna, text)
        frames.append(frame)
    panel = anna.get_by_role("region", name="Теги обращения")
    anna.get_by_role("navigation", name="Мои обращения").get_by_role("link").first.click()
    panel.get_by_label("Добавить тег").select_option(label="Возврат")
    expect(panel.get_by_text("Возврат")).to_be_visible()
    items = anna.get_by_role("navigation", name="Мои обращения").get_by_role("link")
    expect(items.filter(has_text="Возврат")).to_have_count(1)
    # The clients write again, which sends their cards anew: the tag stays on its card.
    history = anna.get_by_role("log", name="История сообщений")
    for frame in frames:
        client_says(frame, "Ну что там?")
    expect(history.get_by_text("Ну что там?")).to_be_visible()
    expect(panel.get_by_text("Возврат")).to_be_visible()
    expect(items.filter(has_text="Возврат")).to_have_count(1)

    anna.get_by_label("Показать с тегом").select_option(label="Возврат")
    expect(items).to_have_count(1)
    anna.get_by_label("Показать с тегом").select_option(label="VIP")
    expect(items).to_have_count(0)
    expect(anna.get_by_text("Нет обращений с этим тегом.")).to_be_visible()
    anna.get_by_label("Показать с тегом").select_option(label="Все теги")
    expect(items).to_have_count(2)

    # Taken off again from the panel.
    panel.get_by_role("button", name="Убрать тег Возврат").click()
    expect(items.filter(has_text="Возврат")).to_have_count(0)


def test_links_and_emphasis_are_rendered_as_elements_on_both_sides(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Где почитать про _возврат_?")
    accept_from_queue(anna, "Где почитать про")
    history = anna.get_by_role("log", name="История сообщений")
    expect(history.locator("em", has_text="возврат")).to_be_visible()
    composer = anna.get_by_label("Сообщение")
    composer.fill(
        "*Важно*: правила на https://shop.example/returns. Код `RET-5`, javascript:alert(1)"
    )
    composer.press("Enter")

    for side in (history, frame):
        message = side.locator("strong", has_text="Важно").locator("xpath=..")
        link = message.get_by_role("link", name="https://shop.example/returns")
        expect(link).to_have_attribute("href", "https://shop.example/returns")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(message.locator("code")).to_have_text("RET-5")
        # Only http(s) and mailto become links.
        expect(message.get_by_role("link")).to_have_count(1)


def test_a_mention_lights_the_badge_and_leads_to_the_message(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, boris = logged_in("anna"), logged_in("boris")
    open_employees(anna)
    open_employees(boris)
    create_room(anna, "Склад", "Борис Петров", "Ольга Иванова")
    composer = anna.get_by_label("Сообщение", exact=True)
    people = anna.get_by_role("listbox", name="Кого упомянуть")
    composer.press_sequentially("Коллеги, @бор")
    expect(people.get_by_role("option")).to_have_count(1)
    composer.press("Enter")
    expect(composer).to_have_value("Коллеги, @Борис Петров ")
    composer.press_sequentially("глянь накладную")
    composer.press("Enter")

    badge = boris.get_by_role("button", name="Упоминания: непрочитанных 1")
    expect(badge).to_be_visible()
    expect(boris.get_by_test_id("mention-badge")).to_have_text("1")
    badge.click()
    listed = (
        boris.get_by_role("dialog", name="Упоминания")
        .get_by_role("button")
        .filter(has_text="глянь накладную")
    )
    expect(listed).to_contain_text("в комнате «Склад»")
    expect(listed).to_contain_text("Анна Смирнова")
    listed.click()
    boris.wait_for_url("**/employees/*")
    expect(
        boris.get_by_role("log").get_by_role("article").filter(has_text="глянь накладную")
    ).to_be_visible()
    expect(boris.get_by_test_id("mention-badge")).to_have_count(0)
    expect(boris.get_by_role("button", name="Упоминания", exact=True)).to_be_visible()

    # In a note, someone who cannot see the request is not told, and its author is.
    client_in_hands(app_server, new_context, anna, "Нужна скидка")
    anna.get_by_role("switch", name="Заметка").check()
    composer = anna.get_by_label("Сообщение", exact=True)
    composer.press_sequentially("@ольг")
    anna.get_by_role("listbox", name="Кого упомянуть").get_by_role("option").first.click()
    composer.press_sequentially("посмотри")
    composer.press("Enter")
    note = anna.get_by_role("log").get_by_role("article").filter(has_text="посмотри")
    expect(note.get_by_role("status")).to_have_text(
        "Не видят эту заявку, упоминание не получат: Ольга Иванова"
    )


def test_a_reply_quotes_the_message_on_both_sides(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Сколько стоит доставка?")
    expect(frame.locator(".bubble.mine:not(.pending)")).to_have_count(1)
    client_says(frame, "И какие сроки?")
    accept_from_queue(anna, "И какие сроки?")
    history = anna.get_by_role("log", name="История сообщений")
    question = history.get_by_role("article").filter(has_text="Сколько стоит доставка?")
    question_id = question.get_attribute("data-message-id")
    question = history.locator(f'article[data-message-id="{question_id}"]')
    question.hover()
    question.get_by_role("button", name="Ответить").click()
    expect(anna.get_by_test_id("replying-to")).to_contain_text("Сколько стоит доставка?")
    composer = anna.get_by_label("Сообщение", exact=True)
    composer.fill("300 рублей, 2 дня")
    composer.press("Enter")
    expect(anna.get_by_test_id("replying-to")).to_have_count(0)

    answer = history.get_by_role("article").filter(has_text="300 рублей, 2 дня")
    quote = answer.get_by_role("button", name="Сколько стоит доставка?")
    expect(quote).to_be_visible()
    quote.click()
    expect(question).to_have_class(re.compile(r"\bhighlighted\b"))
    client_side = frame.locator(".bubble").filter(has_text="300 рублей, 2 дня")
    expect(client_side.locator(".quote")).to_contain_text("Сколько стоит доставка?")


def test_a_picture_shows_as_a_thumbnail_on_both_sides(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna = logged_in("anna")
    _, frame = client_in_hands(app_server, new_context, anna, "Сломалась полка")
    photo = picture(1200, 900, kind="JPEG", noise=True)
    frame.get_by_label("Прикрепить файл").set_input_files(
        files=[{"name": "полка.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    client_says(frame, "Вот фото")

    history = anna.get_by_role("log", name="История сообщений")
    message = history.get_by_role("article").filter(has_text="Вот фото")
    thumbnail = message.get_by_role("img", name="полка.jpg")
    expect(thumbnail).to_have_attribute("src", re.compile(r"/api/files/\d+/thumbnail$"))
    # Drawn from the small copy the server made, not the 1200-pixel picture.
    expect(thumbnail).to_have_js_property("naturalWidth", 480)
    message.get_by_role("button", name="Открыть картинку полка.jpg").click()
    viewer = anna.get_by_role("dialog", name="полка.jpg")
    expect(viewer.get_by_role("img")).to_have_js_property("naturalWidth", 1200)
    viewer.press("Escape")
    expect(viewer).to_have_count(0)
    own_copy = frame.get_by_role("img", name="полка.jpg")
    expect(own_copy).to_have_js_property("naturalWidth", 480)

    # The employee's picture and document, as the client sees them.
    anna.get_by_test_id("file-input").set_input_files(
        files=[
            {"name": "схема.png", "mimeType": "image/png", "buffer": picture(960, 640)},
            {"name": "договор.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x" * 200},
        ]
    )
    expect(anna.get_by_role("button", name="Убрать файл договор.pdf")).to_be_visible()
    composer = anna.get_by_label("Сообщение", exact=True)
    composer.fill("Схема сборки и договор")
    composer.press("Enter")
    scheme = frame.get_by_role("img", name="схема.png")
    expect(scheme).to_have_js_property("naturalWidth", 480)
    frame.get_by_role("button", name="Открыть картинку схема.png").click()
    expect(frame.get_by_role("dialog", name="схема.png").get_by_role("img")).to_have_js_property(
        "naturalWidth", 960
    )
    frame.get_by_role("button", name="Закрыть").click()
    document = frame.get_by_role("link").filter(has_text="договор.pdf")
    expect(document).to_contain_text("PDF · 2 КБ")
    in_history = history.get_by_role("article").filter(has_text="Схема сборки")
    expect(in_history.get_by_role("link").filter(has_text="договор.pdf")).to_contain_text(
        "PDF · 2 КБ"
    )
