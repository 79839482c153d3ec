"""Calls over real WebRTC between two browser contexts, measured with getStats()."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, FrameLocator, Page, expect

from tests.e2e.media import grows, stats
from tests.e2e.test_widget_requests import client_in_hands
from tests.harness import LiveServer


def set_up(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
    text: str,
) -> tuple[Page, Page, FrameLocator]:
    anna = logged_in("anna")
    page, frame = client_in_hands(app_server, new_context, anna, text)
    return anna, page, frame


def test_voice_call_decline_then_accept_mute_and_hang_up(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, page, frame = set_up(app_server, new_context, logged_in, "Позвоните мне")
    anna.get_by_role("button", name="Позвонить клиенту").click()
    expect(anna.get_by_text("Ждём ответа…")).to_be_visible()
    frame.get_by_role("button", name="Запретить").click()
    expect(anna.get_by_text("Клиент отклонил приглашение.")).to_be_visible()

    anna.get_by_role("button", name="Позвонить клиенту").click()
    with page.expect_popup() as popup_info:
        frame.get_by_role("button", name="Разрешить").click()
    call_window = popup_info.value
    call_window.get_by_role("button", name="Принять звонок").click()
    expect(anna.get_by_text("Идёт звонок")).to_be_visible()
    expect(call_window.get_by_text("Идёт звонок")).to_be_visible()
    grows(anna, "audio")
    grows(call_window, "audio")

    # Mute: the employee's outbound audio stops.
    anna.get_by_role("button", name="Выключить микрофон").click()
    anna.wait_for_timeout(500)
    sent = stats(anna, "outbound-rtp")["audio"]
    anna.wait_for_timeout(1500)
    assert stats(anna, "outbound-rtp")["audio"] == sent
    anna.get_by_role("button", name="Включить микрофон").click()
    grows(anna, "audio", "outbound-rtp")

    # The client hangs up: it ends for both.
    call_window.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text("Звонок завершён.")).to_be_visible()
    expect(call_window.get_by_text("Звонок завершён")).to_be_visible()


def test_video_call_shows_the_camera_and_either_side_ends_it(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, _, frame = set_up(app_server, new_context, logged_in, "Покажу товар")
    anna.get_by_role("button", name="Видеозвонок").click()
    frame.get_by_role("button", name="Отклонить").click()
    expect(anna.get_by_text("Клиент отклонил приглашение.")).to_be_visible()

    anna.get_by_role("button", name="Видеозвонок").click()
    frame.get_by_role("button", name="Принять").click()
    expect(anna.get_by_text("Идёт видеозвонок")).to_be_visible()
    grows(anna, "video")
    grows(anna, "frames")
    expect(frame.get_by_role("region", name="Видеозвонок")).to_be_visible()
    frame.get_by_role("button", name="Свернуть", exact=True).click()
    frame.get_by_role("button", name="Развернуть", exact=True).click()
    anna.get_by_role("button", name="Завершить").click()
    expect(frame.get_by_role("region", name="Видеозвонок")).to_have_count(0)
    expect(anna.get_by_text("Видеозвонок завершён.")).to_be_visible()


def test_unanswered_call_times_out(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    app_server.settings.call_answer_seconds = 2
    anna, _, frame = set_up(app_server, new_context, logged_in, "Не отвечу")
    anna.get_by_role("button", name="Видеозвонок").click()
    expect(frame.get_by_role("button", name="Принять")).to_be_visible()
    expect(anna.get_by_text("Клиент не ответил.")).to_be_visible()
    expect(frame.get_by_role("button", name="Принять")).to_have_count(0)


def test_screen_sharing_shows_the_screen_and_ends_from_either_side(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, _, frame = set_up(app_server, new_context, logged_in, "Покажу экран")
    anna.get_by_role("button", name="Попросить показать экран").click()
    frame.get_by_role("button", name="Отклонить").click()
    expect(anna.get_by_text("Клиент отклонил приглашение.")).to_be_visible()

    anna.get_by_role("button", name="Попросить показать экран").click()
    frame.get_by_role("button", name="Принять").click()
    expect(anna.get_by_text("Клиент показывает экран")).to_be_visible()
    grows(anna, "video")
    grows(anna, "frames")
    sharing = frame.get_by_role("region", name="Вы показываете экран")
    expect(sharing).to_be_visible()
    sharing.get_by_role("button", name="Свернуть", exact=True).click()
    sharing.get_by_role("button", name="Развернуть", exact=True).click()
    sharing.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text("Демонстрация экрана завершена.")).to_be_visible()


IN_PROGRESS = {
    "voice": "Идёт звонок",
    "video": "Идёт видеозвонок",
    "screen": "Клиент показывает экран",
}
ENDED = {
    "voice": "Звонок завершён.",
    "video": "Видеозвонок завершён.",
    "screen": "Демонстрация экрана завершена.",
}

BUTTON = {
    "voice": "Позвонить клиенту",
    "video": "Видеозвонок",
    "screen": "Попросить показать экран",
}


def connect(anna: Page, page: Page, frame: FrameLocator, kind: str) -> Page | FrameLocator:
    """Start a call of this kind and accept it; returns where the client's call controls are."""
    anna.get_by_role("button", name=BUTTON[kind]).click()
    if kind == "voice":
        with page.expect_popup() as popup_info:
            frame.get_by_role("button", name="Разрешить").click()
        window = popup_info.value
        window.get_by_role("button", name="Принять звонок").click()
        controls: Page | FrameLocator = window
    else:
        frame.get_by_role("button", name="Принять", exact=True).click()
        controls = frame
    expect(anna.get_by_text(IN_PROGRESS[kind])).to_be_visible()
    return controls


@pytest.mark.parametrize("kind", ["voice", "video", "screen"])
@pytest.mark.parametrize("side", ["employee", "client"])
def test_hang_up_from_either_side_ends_both(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
    kind: str,
    side: str,
) -> None:
    anna, page, frame = set_up(app_server, new_context, logged_in, f"{kind} {side}")
    controls = connect(anna, page, frame, kind)
    grows(anna, "video" if kind != "voice" else "audio")
    if side == "employee":
        anna.get_by_role("button", name="Завершить").click()
    else:
        controls.get_by_role("button", name="Завершить").click()
    expect(anna.get_by_text(ENDED[kind])).to_be_visible()
    if kind == "voice":
        expect(controls.get_by_text("Звонок завершён")).to_be_visible()  # type: ignore[union-attr]
    else:
        expect(frame.get_by_role("button", name="Завершить")).to_have_count(0)


def test_mute_in_a_video_call_stops_outbound_audio(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, page, frame = set_up(app_server, new_context, logged_in, "Видео без звука")
    connect(anna, page, frame, "video")
    grows(anna, "audio", "outbound-rtp")
    anna.get_by_role("button", name="Выключить микрофон").click()
    anna.wait_for_timeout(500)
    sent = stats(anna, "outbound-rtp")["audio"]
    anna.wait_for_timeout(1500)
    assert stats(anna, "outbound-rtp")["audio"] == sent


@pytest.mark.parametrize("kind", ["voice", "screen"])
def test_unanswered_invitation_of_each_kind_times_out(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
    kind: str,
) -> None:
    app_server.settings.call_answer_seconds = 2
    anna, _, frame = set_up(app_server, new_context, logged_in, f"Не отвечу {kind}")
    anna.get_by_role("button", name=BUTTON[kind]).click()
    answer = frame.get_by_role(
        "button", name="Разрешить" if kind == "voice" else "Принять", exact=True
    )
    expect(answer).to_be_visible()
    expect(anna.get_by_text("Клиент не ответил.")).to_be_visible()
    expect(answer).to_have_count(0)


def test_transferring_the_request_ends_a_live_call_for_both(
    app_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    logged_in: Callable[..., Page],
) -> None:
    anna, page, frame = set_up(app_server, new_context, logged_in, "Передадите с видео")
    connect(anna, page, frame, "video")
    grows(anna, "video")
    expect(frame.get_by_role("region", name="Видеозвонок")).to_be_visible()

    anna.get_by_role("button", name="Передать в очередь").click()
    anna.get_by_role("dialog").get_by_label("Очередь").select_option(label="Technical support")
    anna.get_by_role("dialog").get_by_role("button", name="Передать").click()
    anna.wait_for_url("**/requests")

    # The call ends with the request leaving Anna: the client's call window closes, and Anna's
    # side hangs up its connection (her request view is gone, so the media must stop too).
    expect(frame.get_by_role("region", name="Видеозвонок")).to_have_count(0)
    anna.wait_for_function("() => window.__impCall?.pc.connectionState === 'closed'")
    expect(anna.get_by_text("Идёт звонок")).to_have_count(0)
