"""Calls the client starts from the widget, over real WebRTC, measured with getStats()."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Locator, Page, expect

from impserver.core.clock import utcnow
from tests.e2e.administration import demo_site_card, edit_resource
from tests.e2e.language_check import assert_no_latin_words
from tests.e2e.media import content_frame, grows
from tests.e2e.test_calls import set_up
from tests.e2e.test_conversation_alive import PHONE
from tests.e2e.test_widget_requests import client_says, open_widget
from tests.e2e.test_workspace_polish import demo_names
from tests.harness import LiveServer
from tests.widget import demo_site

CALL_BUTTON = {"voice": "Позвонить", "video": "Видеозвонок"}
RINGING = {"voice": "Звонит клиент", "video": "Видеозвонок от клиента"}
REGION = {"voice": "Голосовой звонок", "video": "Видеозвонок"}
ENDED = {"voice": "Звонок завершён.", "video": "Видеозвонок завершён."}
RECORD = {"voice": "Звонок клиента", "video": "Видеозвонок клиента"}
BUSY = "Сотрудник сейчас не может ответить. Напишите сообщение здесь — вам ответят в этом чате."
NO_ANSWER = "Сотрудник не ответил. Напишите сообщение здесь — вам ответят в этом чате."


def client_calls(app_server: LiveServer, *, voice: bool = True, video: bool = True) -> None:
    """The administrator's switches on the demo website (off until turned on)."""
    admin = app_server.login("admin")
    changed = admin.http.patch(
        f"/api/admin/resources/{demo_site(app_server)['id']}",
        json={"client_voice_calls": voice, "client_video_calls": video},
    )
    assert changed.status_code == 200, changed.text


def ringing(employee: Page, kind: str = "voice") -> Locator:
    """The incoming-call notice in the employee's workspace."""
    return employee.get_by_role("alertdialog", name=re.compile(f"^{RINGING[kind]}"))


def history(employee: Page) -> Locator:
    return employee.get_by_role("log", name="История сообщений")


def dial(frame: FrameLocator, kind: str) -> None:
    frame.get_by_role("button", name=CALL_BUTTON[kind], exact=True).click()
    expect(frame.get_by_text("Звоним сотруднику…")).to_be_visible()


@pytest.mark.parametrize(("kind", "side"), [("voice", "client"), ("video", "employee")])
def test_client_calls_the_employee_who_accepts_and_either_side_hangs_up(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
    kind: str,
    side: str,
) -> None:
    client_calls(app_server)
    anna, page, frame = set_up(app_server, new_context, logged_in, f"Позвоню вам ({kind})")
    request_id = anna.url.rsplit("/", 1)[1]
    dial(frame, kind)
    notice = ringing(anna, kind)
    expect(notice).to_contain_text(f"Обращение №{request_id}")
    notice.get_by_role("button", name="Принять").click()
    expect(notice).to_have_count(0)

    in_progress = {"voice": "Идёт звонок", "video": "Идёт видеозвонок"}[kind]
    expect(anna.get_by_text(in_progress, exact=True)).to_be_visible()
    call = frame.get_by_role("region", name=REGION[kind])
    expect(call.get_by_text("Идёт звонок")).to_be_visible()
    widget = content_frame(page, "#imp-widget-frame")
    # Media flows both ways: the employee hears (and sees) the client and the client the
    # employee, through the same relay and peer connection code as the employee's calls.
    grows(anna, "audio")
    grows(widget, "audio")
    if kind == "video":
        for key in ("video", "frames"):
            grows(anna, key)
            grows(widget, key)

    if side == "client":
        call.get_by_role("button", name="Завершить").click()
    else:
        anna.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text(ENDED[kind])).to_be_visible()
    expect(frame.get_by_text("Звонок завершён.")).to_be_visible()
    expect(call).to_have_count(0)
    expect(history(anna).get_by_text(re.compile(f"^{RECORD[kind]}, \\d+ с$"))).to_be_visible()


def test_the_employee_declines_and_the_client_writes_instead(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    client_calls(app_server)
    anna, page, frame = set_up(app_server, new_context, logged_in, "Можно позвонить?")
    dial(frame, "voice")
    expect(ringing(anna)).to_be_visible()
    # Both sides of a ringing call speak Russian only.
    allow = demo_names(app_server, int(anna.url.rsplit("/", 1)[1]))
    assert_no_latin_words(anna, "a client's call ringing", allow)
    assert_no_latin_words(content_frame(page, "#imp-widget-frame"), "the widget calling", allow)
    ringing(anna).get_by_role("button", name="Отклонить").click()
    expect(frame.get_by_text(BUSY)).to_be_visible()
    expect(frame.get_by_role("region", name="Голосовой звонок")).to_have_count(0)
    expect(history(anna).get_by_text("Звонок клиента отклонён")).to_be_visible()
    # The composer is right there: the client leaves a message instead.
    client_says(frame, "Тогда напишу: нужен счёт")
    expect(history(anna).get_by_text("Тогда напишу: нужен счёт")).to_be_visible()


def test_an_unanswered_call_tells_the_client_to_write(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    app_server.settings.client_call_answer_seconds = 2
    client_calls(app_server)
    anna, _, frame = set_up(app_server, new_context, logged_in, "Позвоню, а вы не ответите")
    dial(frame, "video")
    expect(ringing(anna, "video")).to_be_visible()
    expect(frame.get_by_text(NO_ANSWER)).to_be_visible()
    expect(ringing(anna, "video")).to_have_count(0)
    expect(history(anna).get_by_text("Пропущенный видеозвонок клиента")).to_be_visible()


def test_do_not_disturb_declines_the_call_politely(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    client_calls(app_server)
    anna, _, frame = set_up(app_server, new_context, logged_in, "Позвоню в тихий час")
    until = (utcnow() + timedelta(hours=1)).isoformat()
    assert app_server.login("anna").http.patch("/api/me", json={"dnd_until": until}).is_success
    frame.get_by_role("button", name="Позвонить", exact=True).click()
    expect(frame.get_by_text(BUSY)).to_be_visible()
    expect(
        history(anna).get_by_text("Звонок клиента отклонён: режим «Не беспокоить»")
    ).to_be_visible()
    expect(ringing(anna)).to_have_count(0)


def test_only_the_assignees_tabs_ring_and_the_tab_that_answers_owns_the_call(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    client_calls(app_server)
    anna, page, frame = set_up(app_server, new_context, logged_in, "Позвоню в две вкладки")
    request_url = anna.url
    second_tab = anna.context.new_page()
    second_tab.goto(f"{app_server.base_url}/queue")
    boris = logged_in("boris")
    expect(second_tab.get_by_role("link", name="Очередь")).to_be_visible()

    dial(frame, "voice")
    expect(ringing(anna)).to_be_visible()
    expect(ringing(second_tab)).to_be_visible()
    ringing(second_tab).get_by_role("button", name="Принять").click()
    # The tab that answered opens the request and holds the call; the first stops ringing.
    second_tab.wait_for_url(request_url)
    expect(second_tab.get_by_text("Идёт звонок", exact=True)).to_be_visible()
    expect(ringing(anna)).to_have_count(0)
    expect(ringing(boris)).to_have_count(0)
    grows(second_tab, "audio")
    grows(content_frame(page, "#imp-widget-frame"), "audio")
    assert anna.evaluate("() => window.__impCall === undefined")
    second_tab.get_by_role("button", name="Завершить").click()
    expect(frame.get_by_text("Звонок завершён.")).to_be_visible()


def test_calls_off_show_no_buttons_and_the_server_refuses(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    client_calls(app_server, voice=True, video=False)
    _, page, frame = set_up(app_server, new_context, logged_in, "А позвонить можно?")
    expect(frame.get_by_role("button", name="Позвонить", exact=True)).to_be_visible()
    expect(frame.get_by_role("button", name="Видеозвонок", exact=True)).to_have_count(0)
    widget = content_frame(page, "#imp-widget-frame")
    refused = widget.evaluate(
        """async () => {
          const key = Object.keys(localStorage).find((k) => k.startsWith('imp.visitor.'))
          const response = await fetch('/api/widget/calls', {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${localStorage.getItem(key)}`,
              'Content-Type': 'application/json',
            },
            body: JSON.stringify({kind: 'video'}),
          })
          return [response.status, (await response.json()).code]
        }"""
    )
    assert refused == [403, "client_calls_off"]

    # Switched off while the chat is open: the server refuses and the widget says why.
    client_calls(app_server, voice=False, video=False)
    frame.get_by_role("button", name="Позвонить", exact=True).click()
    expect(frame.get_by_role("alert")).to_have_text("Звонки на этом сайте выключены.")
    expect(frame.get_by_text("Звоним сотруднику…")).to_have_count(0)
    # …and offers that call no more.
    expect(frame.get_by_role("button", name="Позвонить", exact=True)).to_have_count(0)


def test_no_call_buttons_before_an_employee_takes_the_request(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
) -> None:
    client_calls(app_server)
    _, frame = open_widget(app_server, new_context)
    frame.get_by_role("button", name="Sales").click()
    client_says(frame, "Жду сотрудника")
    expect(frame.get_by_text("Жду сотрудника")).to_be_visible()
    expect(frame.get_by_role("button", name="Позвонить", exact=True)).to_have_count(0)
    expect(frame.get_by_role("button", name="Видеозвонок", exact=True)).to_have_count(0)


def test_the_administrator_turns_client_calls_on_for_a_website(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    admin = logged_in("admin")
    site = demo_site_card(admin)
    expect(site.get_by_text("выключены", exact=True)).to_be_visible()
    dialog = edit_resource(admin, site)
    voice = dialog.get_by_label("Клиент может позвонить сотруднику")
    video = dialog.get_by_label("Клиент может начать видеозвонок")
    expect(voice).not_to_be_checked()
    expect(video).not_to_be_checked()
    voice.check()
    video.check()
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog).to_have_count(0)
    expect(site.get_by_text("голосовые, видео", exact=True)).to_be_visible()

    _, _, frame = set_up(app_server, new_context, logged_in, "Теперь можно звонить")
    expect(frame.get_by_role("button", name="Позвонить", exact=True)).to_be_visible()
    expect(frame.get_by_role("button", name="Видеозвонок", exact=True)).to_be_visible()


def shows_pictures(video: Locator) -> None:
    """The video element plays a picture that came over the call."""
    expect(video).to_be_visible()
    video.evaluate(
        """(v) => new Promise((resolve) => {
          const check = () => (v.videoWidth > 0 ? resolve(true) : setTimeout(check, 100))
          check()
        })"""
    )


def test_the_employee_asks_for_the_screen_during_a_client_call_without_hanging_up(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    client_calls(app_server)
    anna, page, frame = set_up(app_server, new_context, logged_in, "Покажу экран в звонке")
    dial(frame, "voice")
    ringing(anna).get_by_role("button", name="Принять").click()
    expect(anna.get_by_text("Идёт звонок", exact=True)).to_be_visible()
    grows(anna, "audio")

    anna.get_by_role("button", name="Попросить показать экран").click()
    expect(anna.get_by_text("Ждём, когда клиент покажет экран…")).to_be_visible()
    asked = frame.get_by_role("alertdialog", name="Сотрудник просит показать ваш экран.")
    asked.get_by_role("button", name="Принять").click()
    shows_pictures(anna.get_by_label("Экран клиента"))
    # The screen joins the call: video comes in now, and the voice goes on.
    grows(anna, "frames")
    grows(anna, "audio")
    expect(frame.get_by_role("group", name="Вы показываете экран")).to_be_visible()
    grows(content_frame(page, "#imp-widget-frame"), "audio")

    anna.get_by_role("button", name="Скрыть экран клиента").click()
    expect(anna.get_by_label("Экран клиента")).to_have_count(0)
    expect(frame.get_by_role("button", name="Показать экран")).to_be_visible()
    expect(anna.get_by_text("Идёт звонок", exact=True)).to_be_visible()
    grows(anna, "audio")
    anna.get_by_role("button", name="Завершить").click()
    expect(frame.get_by_text("Звонок завершён.")).to_be_visible()
    record = re.compile(r"^Звонок клиента, \d+ с, с показом экрана$")
    expect(history(anna).get_by_text(record)).to_be_visible()


def test_the_client_shows_the_screen_unasked_in_an_employees_video_call(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, _, frame = set_up(app_server, new_context, logged_in, "Покажу и камеру, и экран")
    anna.get_by_role("button", name="Видеозвонок").click()
    frame.get_by_role("button", name="Принять", exact=True).click()
    expect(anna.get_by_text("Идёт видеозвонок")).to_be_visible()
    call = frame.get_by_role("region", name="Видеозвонок")
    call.get_by_role("button", name="Показать экран").click()
    shows_pictures(anna.get_by_label("Экран клиента"))
    shows_pictures(anna.get_by_label("Камера клиента"))
    sharing = call.get_by_role("group", name="Вы показываете экран")
    sharing.get_by_role("button", name="Остановить показ").click()
    expect(anna.get_by_label("Экран клиента")).to_have_count(0)
    expect(anna.get_by_text("Идёт видеозвонок")).to_be_visible()
    grows(anna, "frames")
    call.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text("Видеозвонок завершён.")).to_be_visible()


def test_the_screen_joins_an_employees_voice_call_in_the_clients_call_window(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    client_calls(app_server)
    anna, page, frame = set_up(app_server, new_context, logged_in, "Покажу экран из окна звонка")
    call_buttons = frame.get_by_role("button", name=re.compile("^(Позвонить|Видеозвонок)$"))
    expect(call_buttons).to_have_count(2)
    anna.get_by_role("button", name="Позвонить клиенту").click()
    with page.expect_popup() as popup:
        frame.get_by_role("button", name="Разрешить").click()
    window = popup.value
    window.get_by_role("button", name="Принять звонок").click()
    expect(window.get_by_text("Идёт звонок")).to_be_visible()
    # The call runs in its own window: the chat offers no second call meanwhile.
    expect(call_buttons).to_have_count(0)
    anna.get_by_role("button", name="Попросить показать экран").click()
    window.get_by_role("alertdialog", name="Сотрудник просит показать ваш экран.").get_by_role(
        "button", name="Принять"
    ).click()
    shows_pictures(anna.get_by_label("Экран клиента"))
    window.get_by_role("button", name="Остановить показ").click()
    expect(anna.get_by_label("Экран клиента")).to_have_count(0)
    grows(window, "audio")
    window.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text("Звонок завершён.")).to_be_visible()
    expect(call_buttons).to_have_count(2)


def test_a_client_on_a_phone_makes_a_video_call(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    # Mobile Chromium: a phone's screen, touch and user agent, the chat full-screen.
    def phone(**options: object) -> BrowserContext:
        return new_context(**options, **PHONE)

    client_calls(app_server)
    anna, page, frame = set_up(app_server, phone, logged_in, "Позвоню с телефона")
    box = page.locator("#imp-widget-frame").bounding_box()
    assert box is not None and (box["width"], box["height"]) == (390, 844), box
    frame.get_by_role("button", name="Видеозвонок", exact=True).tap()
    expect(frame.get_by_text("Звоним сотруднику…")).to_be_visible()
    ringing(anna, "video").get_by_role("button", name="Принять").click()
    call = frame.get_by_role("region", name="Видеозвонок")
    expect(call.get_by_text("Идёт звонок")).to_be_visible()
    widget = content_frame(page, "#imp-widget-frame")
    for key in ("audio", "video", "frames"):
        grows(anna, key)
        grows(widget, key)
    call.get_by_role("button", name="Завершить").tap()
    expect(anna.get_by_text(ENDED["video"])).to_be_visible()


# Records the desktop notices the page makes (and closes), with the tab out of sight.
HIDDEN_TAB_WITH_NOTICES = """
Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true })
window.__notices = []
const RealNotification = window.Notification
window.Notification = class extends RealNotification {
  constructor(title, options) {
    super(title, options)
    const record = { title, body: options.body, tag: options.tag, closed: false }
    window.__notices.push(record)
    const close = this.close.bind(this)
    this.close = () => { record.closed = true; close() }
  }
}
"""


def test_a_call_ringing_in_a_hidden_tab_shows_a_desktop_notice_until_answered(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    client_calls(app_server)
    anna, _, frame = set_up(app_server, new_context, logged_in, "Позвоню, пока вкладка скрыта")
    request_id = anna.url.rsplit("/", 1)[1]
    anna.context.grant_permissions(["notifications"], origin=app_server.base_url)
    anna.context.add_init_script(HIDDEN_TAB_WITH_NOTICES)
    anna.reload()
    expect(history(anna).get_by_text("Позвоню, пока вкладка скрыта")).to_be_visible()

    dial(frame, "voice")
    notice = ringing(anna)
    expect(notice).to_be_visible()
    calls = "window.__notices.filter((n) => n.tag.startsWith('call-'))"
    anna.wait_for_function(f"() => {calls}.length === 1")
    shown = anna.evaluate(f"() => {calls}[0]")
    assert re.fullmatch(f"{RINGING['voice']}: Клиент №\\d+", shown["title"]), shown
    assert shown["body"] == f"Обращение №{request_id}" and not shown["closed"], shown

    # Answered (declined here): the notice goes; the ring made no second one.
    notice.get_by_role("button", name="Отклонить").click()
    anna.wait_for_function(f"() => {calls}[0].closed")
    assert anna.evaluate(f"() => {calls}.length") == 1
