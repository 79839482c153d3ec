"""Quality in the Russian UI: the client rates a closed request; the archive finds it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.administration import demo_site_card, edit_resource
from tests.e2e.test_widget_requests import accept_from_queue, client_says, open_widget
from tests.harness import LiveServer


def test_a_client_rates_a_closed_request_and_the_rating_shows_in_its_history(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    admin = logged_in("admin")
    site = demo_site_card(admin)
    dialog = edit_resource(admin, site)
    dialog.get_by_label("Просить клиента оценить обращение после закрытия").check()
    dialog.get_by_label("Вопрос об оценке").fill("Как мы справились?")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog).to_have_count(0)
    expect(site.get_by_text("спрашивать", exact=True)).to_be_visible()

    anna = logged_in("anna")
    page, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Не могу оплатить заказ")
    accept_from_queue(anna, "Не могу оплатить заказ")
    composer = anna.get_by_label("Сообщение", exact=True)
    composer.fill("Попробуйте ещё раз, теперь всё работает")
    composer.press("Enter")
    anna.get_by_role("button", name="Закрыть заявку").click()
    anna.wait_for_url("**/requests")

    expect(frame.get_by_text("Как мы справились?")).to_be_visible()
    stars = frame.get_by_role("radiogroup", name="Оценка")
    send = frame.get_by_role("button", name="Оценить")
    expect(send).to_be_disabled()
    stars.get_by_role("radio", name="4 из 5").click()
    expect(stars.get_by_role("radio", name="4 из 5")).to_have_attribute("aria-checked", "true")
    frame.get_by_label("Комментарий (необязательно)").fill("Помогли быстро")
    send.click()
    expect(frame.get_by_text("Спасибо за оценку!")).to_be_visible()
    # Once: after a reload the question shows as answered.
    page.reload()
    expect(frame.get_by_text("Спасибо за оценку!")).to_be_visible()
    expect(frame.get_by_role("radiogroup", name="Оценка")).to_have_count(0)

    # In the archive: filtered by the rating, opened, its history and rating read.
    anna.get_by_role("link", name="Архив").click()
    filters = anna.get_by_role("form", name="Фильтры архива")
    filters.get_by_label("Оценка").select_option(label="4 из 5")
    filters.get_by_label("Статус").select_option(label="закрыто")
    filters.get_by_role("button", name="Найти").click()
    results = anna.get_by_role("table", name="Найденные обращения")
    expect(results.get_by_role("row")).to_have_count(2)  # the header and the one request
    expect(results).to_contain_text("4 из 5")
    results.get_by_role("button", name=re.compile(r"^Открыть обращение")).click()
    detail = anna.get_by_role("region", name=re.compile(r"^Обращение №"))
    expect(detail).to_contain_text("4 из 5 — «Помогли быстро»")
    history = detail.get_by_role("log", name="История сообщений")
    expect(history.get_by_text("Попробуйте ещё раз, теперь всё работает")).to_be_visible()
    expect(history.get_by_text("Клиенту предложено оценить обращение")).to_be_visible()
    expect(
        history.get_by_text("Оценка клиента: 4 из 5. Комментарий: «Помогли быстро»")
    ).to_be_visible()
    # Another rating finds nothing.
    filters.get_by_label("Оценка").select_option(label="1 из 5")
    filters.get_by_role("button", name="Найти").click()
    expect(anna.get_by_text("Обращений не найдено.")).to_be_visible()

    # The reports page counts it: the rating in the chart, Anna in the table, the table as CSV.
    admin.get_by_role("link", name="Отчёты").click()
    admin.wait_for_url("**/reports")
    expect(admin.get_by_text("Распределение оценок")).to_be_visible()
    ratings_chart = admin.get_by_role("img", name=re.compile(r"^Распределение оценок"))
    expect(ratings_chart).to_have_attribute("aria-label", re.compile(r"4 — 1"))
    table = admin.get_by_role("table", name="Сотрудники")
    expect(table.get_by_role("row").filter(has_text="Анна Смирнова")).to_contain_text("4")
    with admin.expect_download() as downloading:
        admin.get_by_role("button", name="Таблицу в CSV").click()
    csv = Path(downloading.value.path()).read_bytes().decode("utf-8")
    assert csv.startswith("\ufeffСотрудник;Закрыто обращений;")
    assert "Анна Смирнова;1;" in csv


def test_the_live_view_shows_a_queue_filling_and_emptying_without_a_reload(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    admin = logged_in("admin")
    admin.get_by_role("link", name="Отчёты").click()
    admin.wait_for_url("**/reports")
    live = admin.get_by_role("region", name="Сейчас")
    queues = live.get_by_role("table", name="Очереди сейчас")
    sales = queues.get_by_role("row").filter(has_text="Sales")
    expect(sales.get_by_role("cell").nth(1)).to_have_text("0")
    team = live.get_by_role("table", name="Команда сейчас")
    anna_row = team.get_by_role("row").filter(has_text="Анна Смирнова")
    expect(anna_row.get_by_role("cell").nth(2)).to_have_text(re.compile(r"^0"))

    anna = logged_in("anna")
    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Где мой заказ?")
    # The queue fills on the supervisor's screen as it happens, and the wait counts up.
    expect(sales.get_by_role("cell").nth(1)).to_have_text("1")
    expect(sales.get_by_role("cell").nth(2)).to_have_text(re.compile(r"^\d+ с$"))
    first = sales.get_by_role("cell").nth(2).inner_text()
    expect(sales.get_by_role("cell").nth(2)).not_to_have_text(first)

    accept_from_queue(anna, "Где мой заказ?")
    expect(sales.get_by_role("cell").nth(1)).to_have_text("0")
    expect(sales.get_by_role("cell").nth(2)).to_have_text("—")
    expect(anna_row.get_by_role("cell").nth(2)).to_have_text(re.compile(r"^1"))
