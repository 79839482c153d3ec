"""Employees' rooms in two real browsers: create, talk, files, rename, members, leave, search."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.pictures import picture as draw_picture


def open_employees(page: Page) -> None:
    page.get_by_role("link", name="Сотрудники").click()
    page.wait_for_function("() => window.__imp?.realtime.state.value === 'connected'")


def create_room(page: Page, name: str, *people: str) -> None:
    page.get_by_role("button", name="Создать комнату").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Название комнаты").fill(name)
    for person in people:
        dialog.get_by_label(person).check()
    dialog.get_by_role("button", name="Создать").click()
    expect(dialog).to_have_count(0)


def send(page: Page, text: str) -> None:
    page.get_by_label("Сообщение", exact=True).fill(text)
    page.get_by_role("button", name="Отправить").click()


def history(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("log")


def test_two_employees_talk_in_a_new_room(logged_in: Callable[..., Page], tmp_path: Path) -> None:
    anna = logged_in("anna")
    boris = logged_in("boris")
    open_employees(anna)
    open_employees(boris)

    create_room(anna, "Доставка", "Борис Петров")
    # The room appears for Boris at once, with an unread counter once Anna writes.
    boris_room = boris.get_by_role("navigation", name="Комнаты").get_by_role(
        "link", name="Доставка"
    )
    expect(boris_room).to_be_visible()
    send(anna, "Привет! <b>не жирный</b>")
    expect(boris_room.locator(".badge")).to_have_text("1")

    boris_room.click()
    expect(history(boris).get_by_text("Привет! <b>не жирный</b>")).to_be_visible()
    expect(boris_room.locator(".badge")).to_have_count(0)
    send(boris, "Здравствуй, Анна")
    expect(history(anna).get_by_text("Здравствуй, Анна")).to_be_visible()
    expect(history(anna).locator("b")).to_have_count(0)

    # Files: attach, remove by clicking, attach again, send with text, open in the viewer.
    picture = tmp_path / "photo.png"
    picture.write_bytes(draw_picture(8, 8))
    notes = tmp_path / "notes.txt"
    notes.write_text("Список дел")
    anna.get_by_test_id("file-input").set_input_files([str(picture), str(notes)])
    anna.get_by_role("button", name="Убрать файл notes.txt").click()
    expect(anna.get_by_role("button", name="Убрать файл notes.txt")).to_have_count(0)
    expect(anna.get_by_role("button", name="Убрать файл photo.png")).to_be_visible()
    send(anna, "Смотри фото")
    message = history(boris).locator("article", has_text="Смотри фото")
    expect(message.get_by_role("img", name="photo.png")).to_be_visible()
    message.get_by_role("button", name="Открыть картинку photo.png").click()
    viewer = boris.get_by_role("dialog", name="photo.png")
    href = viewer.get_by_role("link", name="Скачать").get_attribute("href")
    assert href is not None
    viewer.get_by_role("button", name="Закрыть").click()
    expect(viewer).to_have_count(0)
    response = boris.request.get(f"{boris.url.split('/employees')[0]}{href}")
    assert response.status == 200 and response.body() == picture.read_bytes()

    # Rename with Edit / Save; Cancel keeps the saved name.
    panel = anna.get_by_role("complementary", name="О комнате")
    panel.get_by_role("button", name="Изменить").click()
    panel.get_by_label("Название комнаты").fill("Доставка и склад")
    panel.get_by_role("button", name="Сохранить").click()
    expect(boris.get_by_role("heading", name="Доставка и склад").first).to_be_visible()
    panel.get_by_role("button", name="Изменить").click()
    panel.get_by_label("Название комнаты").fill("Не сохранять")
    panel.get_by_role("button", name="Отмена").click()
    expect(panel.get_by_role("heading", name="Доставка и склад")).to_be_visible()


def test_members_added_removed_and_leaving(logged_in: Callable[..., Page]) -> None:
    anna = logged_in("anna")
    olga = logged_in("olga")
    open_employees(anna)
    open_employees(olga)
    create_room(anna, "Смена", "Борис Петров")

    anna.get_by_role("button", name="Добавить людей").click()
    dialog = anna.get_by_role("dialog")
    dialog.get_by_label("Ольга Иванова").check()
    dialog.get_by_role("button", name="Добавить").click()
    olga_room = olga.get_by_role("navigation", name="Комнаты").get_by_role("link", name="Смена")
    expect(olga_room).to_be_visible()

    anna.get_by_role("button", name="Удалить Ольга Иванова из комнаты").click()
    expect(olga_room).to_have_count(0)
    panel = anna.get_by_role("complementary", name="О комнате")
    expect(panel.get_by_text("Ольга Иванова")).to_have_count(0)

    anna.get_by_role("button", name="Покинуть комнату").click()
    expect(
        anna.get_by_role("navigation", name="Комнаты").get_by_role("link", name="Смена")
    ).to_have_count(0)


def test_search_rooms_by_participant(logged_in: Callable[..., Page]) -> None:
    anna = logged_in("anna")
    open_employees(anna)
    create_room(anna, "English desk", "Emma Wilson")
    anna.get_by_role("searchbox", name="Поиск по обращениям, людям и сообщениям").fill("wilson")
    results = anna.get_by_role("region", name="Результаты поиска")
    expect(results.get_by_role("button", name="English desk")).to_be_visible()
    expect(results.get_by_role("button", name="Support team")).to_have_count(0)
    results.get_by_role("button", name="English desk").click()
    expect(anna.get_by_role("heading", name="English desk").first).to_be_visible()
