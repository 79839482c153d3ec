"""The Telegram channel against a local Bot API server (real wire format, no internet)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from impserver.core.clock import utcnow
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.messenger_flow import (
    TOPICS,
    add_queues_for_anna,
    failed_delivery,
    queue_cards,
    start_messenger_server,
    wait_until,
)
from tests.harness import LiveServer, free_port
from tests.pictures import picture
from tests.s3_server import S3Server

TOKEN = "123456:TEST-token_for_imp"
USER = 777001

LABEL = picture(80, 40, color="orange")


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    fake.add_bot(TOKEN)
    yield fake
    fake.stop()


def start_server(
    settings_factory: Any,
    telegram: FakeTelegram,
    mode: str,
    backend: str = "sqlite",
    **overrides: object,
) -> LiveServer:
    return start_messenger_server(
        settings_factory,
        backend,
        telegram_api_url=telegram.base_url,
        telegram_mode=mode,
        **overrides,
    )


def connect_bot(server: LiveServer, topic_seconds: int = 30) -> dict[str, Any]:
    admin = server.login("admin")
    response = admin.http.post(
        "/api/admin/resources/telegram",
        json={"token": TOKEN, "topic_choice_seconds": topic_seconds},
    )
    assert response.status_code == 201, response.text
    bot = response.json()
    assert bot["kind"] == "telegram" and bot["bot_username"] == "imp_demo_bot"
    assert bot["name"] == "IMP Demo" and TOKEN not in response.text
    add_queues_for_anna(server, bot["id"], TOPICS)
    return bot


@pytest.fixture
def polling(settings_factory: Any, telegram: FakeTelegram) -> Iterator[LiveServer]:
    live = start_server(settings_factory, telegram, "polling")
    yield live
    live.stop()


def test_bad_token_is_refused_with_a_message(polling: LiveServer) -> None:
    admin = polling.login("admin")
    response = admin.http.post("/api/admin/resources/telegram", json={"token": "999:unknown-token"})
    assert response.status_code == 422
    assert response.json()["detail"] == "Telegram did not accept this bot token."
    assert response.json()["code"] == "telegram_token_rejected"
    malformed = admin.http.post("/api/admin/resources/telegram", json={"token": "not a token"})
    assert malformed.status_code == 422


def test_a_token_telegram_cannot_be_asked_about_is_refused_saying_so(
    settings_factory: Any,
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    live = start_messenger_server(settings_factory, "sqlite", telegram_api_url=nobody)
    try:
        admin = live.login("admin")
        response = admin.http.post("/api/admin/resources/telegram", json={"token": TOKEN})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "telegram_unreachable"
        assert response.json()["detail"].startswith(
            "Telegram could not be reached to check the token"
        )
        assert admin.http.get("/api/admin/resources").json()[-1]["kind"] != "telegram"
    finally:
        live.stop()


def test_start_topic_choice_and_exchange_both_ways(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    connect_bot(polling)
    telegram.user_sends(TOKEN, USER, text="/start")
    greeting = telegram.wait_for(
        lambda c: c.method == "sendMessage" and "Здравствуйте" in str(c.params.get("text"))
    )
    assert str(greeting.params["chat_id"]) == str(USER)
    keyboard = telegram.wait_for(lambda c: "reply_markup" in c.params).params["reply_markup"]
    buttons = [row[0] for row in keyboard["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["Orders", "Returns"]

    telegram.user_presses(TOKEN, USER, buttons[1]["callback_data"])
    telegram.wait_for(lambda c: c.method == "answerCallbackQuery")
    telegram.wait_for(lambda c: "Тема выбрана: Returns" in str(c.params.get("text")))

    telegram.user_sends(TOKEN, USER, text="Хочу вернуть товар")
    telegram.wait_for(lambda c: "подождите" in str(c.params.get("text")))  # W-4 reaches Telegram
    anna = polling.login("anna")
    card = wait_until(
        lambda: [
            r
            for r in anna.http.get("/api/requests/queue").json()
            if r["resource_kind"] == "telegram"
        ]
    )[0]
    assert card["queue"]["name"] == "Returns" and card["client"]["name"] == "Иван"
    assert anna.http.post(f"/api/requests/{card['id']}/accept").status_code == 200
    client = anna.http.get(f"/api/clients/{card['client']['id']}").json()
    assert ("telegram", "@ivan") in [(c["kind"], c["value"]) for c in client["contacts"]]

    no_call = anna.http.post(f"/api/requests/{card['id']}/calls", json={"kind": "voice"})
    assert no_call.status_code == 422  # calls are for website visitors only
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Оформим возврат!"})
    reply = telegram.wait_for(lambda c: "Оформим возврат!" in str(c.params.get("text")))
    assert str(reply.params["chat_id"]) == str(USER)

    telegram.user_sends_photo(TOKEN, USER, b"\xff\xd8\xff fake jpeg", caption="Вот чек")
    history = wait_until(
        lambda: [
            m
            for m in anna.http.get(f"/api/requests/{card['id']}/messages").json()
            if m["body"] == "Вот чек"
        ]
    )
    (photo,) = history[0]["attachments"]
    assert anna.http.get(photo["url"]).content == b"\xff\xd8\xff fake jpeg"

    # Employee sends a picture: it goes out as a photo.
    upload = anna.http.post("/api/files", files={"file": ("label.png", LABEL, "image/png")}).json()
    anna.http.post(
        f"/api/requests/{card['id']}/messages",
        json={"body": "Наклейка", "attachment_ids": [upload["id"]]},
    )
    sent_photo = telegram.wait_for(lambda c: c.method == "sendPhoto")
    assert sent_photo.files["photo"] == LABEL


def test_sticker_and_voice_become_readable_placeholders(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    connect_bot(polling, topic_seconds=0)
    telegram.user_sends(
        TOKEN,
        USER,
        sticker={
            "file_id": "s1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        },
    )
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    assert card["last_message"]["body"] == "[стикер 👍]"


def test_default_queue_timeout_close_and_new_request(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    connect_bot(polling, topic_seconds=1)
    telegram.user_sends(TOKEN, USER, text="Вопрос без темы")
    telegram.wait_for(lambda c: "reply_markup" in c.params)  # asked to choose
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json(), timeout=15)[0]
    assert card["queue"]["name"] == "Orders"  # the first queue became the default
    anna.http.post(f"/api/requests/{card['id']}/accept")
    anna.http.post(f"/api/requests/{card['id']}/close")
    telegram.user_sends(TOKEN, USER, text="Новый вопрос")
    new = wait_until(
        lambda: [r for r in anna.http.get("/api/requests/queue").json() if r["id"] != card["id"]],
        timeout=15,
    )
    assert new[0]["last_message"]["body"] == "Новый вопрос"


def test_blocked_client_gets_a_polite_refusal(polling: LiveServer, telegram: FakeTelegram) -> None:
    connect_bot(polling, topic_seconds=0)
    telegram.user_sends(TOKEN, USER, text="Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    anna.http.post(f"/api/requests/{card['id']}/block")
    telegram.user_sends(TOKEN, USER, text="Ещё раз")
    telegram.wait_for(lambda c: "больше не можете" in str(c.params.get("text")))


def test_rate_limit_is_honoured_and_delivery_retried(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    connect_bot(polling, topic_seconds=0)
    telegram.user_sends(TOKEN, USER, text="Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    telegram.refuse_once[("sendMessage", "После паузы")] = 1
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "После паузы"})
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "И следом"})
    delivered = telegram.wait_for(lambda c: "После паузы" in str(c.params.get("text")), timeout=15)
    following = telegram.wait_for(lambda c: "И следом" in str(c.params.get("text")), timeout=15)
    [refused] = telegram.refused
    assert delivered.at - refused.at >= 1.0  # retried once Telegram's retry_after had passed
    assert following.at >= delivered.at  # and what was written after it waited its turn


def test_long_message_is_split(polling: LiveServer, telegram: FakeTelegram) -> None:
    connect_bot(polling, topic_seconds=0)
    telegram.user_sends(TOKEN, USER, text="Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    long_text = ("слово " * 1500).strip()
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": long_text})
    wait_until(
        lambda: (
            len(
                [
                    c
                    for c in telegram.sent_to(USER, "sendMessage")
                    if "слово" in str(c.params.get("text"))
                ]
            )
            >= 3
        )
    )
    parts = [
        str(c.params["text"])
        for c in telegram.sent_to(USER, "sendMessage")
        if "слово" in str(c.params.get("text"))
    ]
    assert all(len(p) <= 4096 for p in parts)


def test_failed_delivery_is_shown_on_the_message(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    connect_bot(polling, topic_seconds=0)
    telegram.user_sends(TOKEN, USER, text="Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    telegram.bots.pop(TOKEN)  # the bot is gone on Telegram's side: every call is refused
    sent = anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Не дойдёт"}).json()
    message = failed_delivery(anna, card["id"], sent["id"])
    assert message["meta"]["delivery_error"]


def test_webhook_mode_with_secret(settings_factory: Any, telegram: FakeTelegram) -> None:
    live = start_server(settings_factory, telegram, "webhook")
    try:
        bot = connect_bot(live, topic_seconds=0)
        fake_bot = telegram.bots[TOKEN]
        assert fake_bot.webhook_url == f"{live.base_url}/api/channels/telegram/{bot['id']}/webhook"
        assert fake_bot.webhook_secret
        telegram.user_sends(TOKEN, USER, text="Через вебхук")
        assert telegram.webhook_responses[-1] == 200
        anna = live.login("anna")
        card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
        assert card["last_message"]["body"] == "Через вебхук"
        forged = {
            "update_id": 99,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "X"},
                "text": "hack",
            },
        }
        assert telegram.post_to_webhook(TOKEN, forged, "wrong-secret") == 403
        # Removing the resource stops the bot.
        live.login("admin").http.delete(f"/api/admin/resources/{bot['id']}")
        assert telegram.post_to_webhook(TOKEN, forged, fake_bot.webhook_secret) == 404
    finally:
        live.stop()


def test_postgres_and_redis_too(settings_factory: Any, telegram: FakeTelegram) -> None:
    live = start_server(settings_factory, telegram, "polling", backend="postgres")
    try:
        connect_bot(live, topic_seconds=0)
        telegram.user_sends(TOKEN, USER, text="На PostgreSQL")
        anna = live.login("anna")
        card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
        anna.http.post(f"/api/requests/{card['id']}/accept")
        anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Ответ"})
        telegram.wait_for(lambda c: c.params.get("text") and "Ответ" in str(c.params["text"]))
    finally:
        live.stop()


def test_a_note_never_goes_to_telegram(polling: LiveServer, telegram: FakeTelegram) -> None:
    connect_bot(polling, topic_seconds=0)
    telegram.user_sends(TOKEN, USER, text="Верните деньги")
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    note = anna.http.post(
        f"/api/requests/{card['id']}/notes", json={"body": "Сначала проверить оплату"}
    )
    assert note.status_code == 201, note.text
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Проверяем оплату"})
    # Deliveries go out in order: once the reply is there, the note would have been too.
    telegram.wait_for(lambda c: "Проверяем оплату" in str(c.params.get("text")))
    assert not [c for c in telegram.sent if "Сначала проверить" in str(c.params)]


def test_files_both_ways_through_object_storage(
    settings_factory: Any, telegram: FakeTelegram, s3: S3Server
) -> None:
    bucket = s3.new_bucket()
    live = start_server(
        settings_factory, telegram, "polling", backend="postgres", **s3.settings(bucket)
    )
    try:
        connect_bot(live, topic_seconds=0)
        telegram.user_sends_photo(TOKEN, USER, b"\xff\xd8\xff receipt", caption="Чек")
        anna = live.login("anna")
        card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
        anna.http.post(f"/api/requests/{card['id']}/accept")
        (received,) = s3.keys(bucket)
        assert s3.body(bucket, received) == b"\xff\xd8\xff receipt"

        contract = "Договор №12".encode() * 5000
        upload = anna.http.post(
            "/api/files", files={"file": ("договор.txt", contract, "text/plain")}
        ).json()
        anna.http.post(
            f"/api/requests/{card['id']}/messages",
            json={"body": "Договор", "attachment_ids": [upload["id"]]},
        )
        sent = telegram.wait_for(lambda c: c.method == "sendDocument")
        assert sent.files["document"] == contract
        assert len(s3.keys(bucket)) == 2
        assert not live.settings.resolved_files_path.exists()
    finally:
        live.stop()


# -- what PostgreSQL refuses ----------------------------------------------------------------


# Telegram allows 64 characters for each; the client's name column holds 120.
LONG_FIRST_NAME = "Александра-Виктория " + "Я" * 44
LONG_LAST_NAME = "Константинопольская-" + "Ю" * 44


@pytest.fixture
def postgres_webhook(settings_factory: Any, telegram: FakeTelegram) -> Iterator[LiveServer]:
    live = start_server(settings_factory, telegram, "webhook", backend="postgres")
    yield live
    live.stop()


def test_the_longest_telegram_names_are_cut_to_fit_on_postgres(
    postgres_webhook: LiveServer, telegram: FakeTelegram
) -> None:
    assert len(LONG_FIRST_NAME) == len(LONG_LAST_NAME) == 64
    connect_bot(postgres_webhook, topic_seconds=0)
    telegram.user_sends(
        TOKEN, USER, first_name=LONG_FIRST_NAME, last_name=LONG_LAST_NAME, text="Длинное имя"
    )
    assert telegram.webhook_responses[-1] == 200
    card = wait_until(lambda: queue_cards(postgres_webhook, "telegram"))[0]
    assert card["last_message"]["body"] == "Длинное имя"
    name = card["client"]["name"]
    assert len(name) == 120 and name.endswith("…")
    assert name.startswith(f"{LONG_FIRST_NAME} Константинопольская-")
    # The next message of the same person goes to the same client and request.
    telegram.user_sends(
        TOKEN, USER, first_name=LONG_FIRST_NAME, last_name=LONG_LAST_NAME, text="Ещё раз"
    )
    assert telegram.webhook_responses[-1] == 200
    cards = wait_until(
        lambda: [
            c
            for c in queue_cards(postgres_webhook, "telegram")
            if c["last_message"]["body"] == "Ещё раз"
        ]
    )
    assert [c["id"] for c in cards] == [card["id"]]


class RefusedWrites:
    """PostgreSQL refusing to store messages, as a full disk or a broken replica would: a
    trigger that fails every insert into ``messages`` until it is dropped."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server

    async def _run(self, *statements: str) -> None:
        async with self.server.services.db.transaction() as uow:
            for statement in statements:
                await uow.session.execute(text(statement))

    def __enter__(self) -> RefusedWrites:
        self.server.run(
            self._run(
                "CREATE FUNCTION refuse_message() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$",
                "CREATE TRIGGER refuse_message BEFORE INSERT ON messages "
                "FOR EACH ROW EXECUTE FUNCTION refuse_message()",
            )
        )
        return self

    def __exit__(self, *_: object) -> None:
        self.server.run(
            self._run("DROP TRIGGER refuse_message ON messages", "DROP FUNCTION refuse_message()")
        )


def messages_with(server: LiveServer, body: str) -> list[dict[str, Any]]:
    anna = server.login("anna")
    found = []
    for card in queue_cards(server, "telegram"):
        for message in anna.http.get(f"/api/requests/{card['id']}/messages").json():
            if message["body"] == body:
                found.append(message)
    return found


def test_a_webhook_update_the_database_refuses_is_logged_refused_and_kept(
    postgres_webhook: LiveServer, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    connect_bot(postgres_webhook, topic_seconds=0)
    with RefusedWrites(postgres_webhook), caplog.at_level(logging.ERROR):
        update_id = telegram.user_sends(TOKEN, USER, text="Сохраните меня")
        # Not a success: Telegram keeps the update and sends it again.
        assert telegram.webhook_responses[-1] == 503
    logged = [r for r in caplog.records if "could not be stored" in r.getMessage()]
    assert logged and str(update_id) in logged[0].getMessage()
    assert "No space left" in (logged[0].exc_text or "")
    assert messages_with(postgres_webhook, "Сохраните меня") == []
    # Telegram's retry is stored, once, however many times it comes.
    update = next(u for u in telegram.delivered if u["update_id"] == update_id)
    secret = telegram.bots[TOKEN].webhook_secret
    assert telegram.post_to_webhook(TOKEN, update, secret) == 200
    assert telegram.post_to_webhook(TOKEN, update, secret) == 200
    assert len(wait_until(lambda: messages_with(postgres_webhook, "Сохраните меня"))) == 1


def test_a_polled_update_the_database_refuses_is_polled_again(
    settings_factory: Any, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    live = start_server(settings_factory, telegram, "polling", backend="postgres")
    try:
        connect_bot(live, topic_seconds=0)
        with RefusedWrites(live), caplog.at_level(logging.ERROR):
            telegram.user_sends(TOKEN, USER, text="Не потеряйте")
            # The poller has met the refusal, and said so.
            wait_until(lambda: [r for r in caplog.records if "Telegram update" in r.getMessage()])
            assert messages_with(live, "Не потеряйте") == []
        assert len(wait_until(lambda: messages_with(live, "Не потеряйте"), timeout=40)) == 1
    finally:
        live.stop()


def test_outside_working_hours_the_bot_answers_once_with_the_hours(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    bot = connect_bot(polling, topic_seconds=30)
    today = utcnow().date()
    hours = {
        "enabled": True,
        "time_zone": "Europe/Moscow",
        "week": [[["09:00", "18:00"]] for _ in range(7)],
        # Closed for two weeks from today: back on the fifteenth day at nine.
        "days_off": [(today + timedelta(days=i)).isoformat() for i in range(14)],
    }
    admin = polling.login("admin")
    saved = admin.http.put(f"/api/admin/resources/{bot['id']}/hours", json=hours)
    assert saved.status_code == 200, saved.text

    telegram.user_sends(TOKEN, USER, text="Вы работаете?")
    notice = telegram.wait_for(lambda c: "не работаем" in str(c.params.get("text")))
    back = today + timedelta(days=14)
    assert f"{back:%d.%m} 09:00 (Europe/Moscow)" in notice.params["text"]
    # No topic choice outside hours: the request waits, marked, in the default queue.
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    assert card["outside_hours"] is True
    telegram.user_sends(TOKEN, USER, text="Алло?")
    wait_until(
        lambda: anna.http.get("/api/requests/queue").json()[0]["last_message"]["body"] == "Алло?"
    )
    assert sum("не работаем" in str(c.params.get("text")) for c in telegram.sent) == 1


def test_a_waiting_telegram_client_hears_their_place_on_entering_and_every_fifth(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    connect_bot(polling, topic_seconds=0)
    users = [USER + i for i in range(6)]
    anna = polling.login("anna")
    for count, user in enumerate(users, start=1):
        telegram.user_sends(TOKEN, user, text=f"Вопрос {count}", username=f"user{count}")
        # One at a time: their places are their order of arrival.
        wait_until(lambda n=count: len(anna.http.get("/api/requests/queue").json()) == n)

    def told(user: int) -> list[str]:
        return [
            str(c.params["text"])
            for c in telegram.sent
            if c.method == "sendMessage" and c.params.get("chat_id") in (user, str(user))
        ]

    for place, user in enumerate(users, start=1):
        telegram.wait_for(
            lambda c, u=user, p=place: (
                f"Вы {p}-й в очереди" in str(c.params.get("text"))
                and c.params.get("chat_id") in (u, str(u))
            )
        )
    first = anna.http.get("/api/requests/queue").json()[0]
    assert anna.http.post(f"/api/requests/{first['id']}/accept").status_code == 200
    telegram.wait_for(
        lambda c: (
            "Вы 5-й в очереди" in str(c.params.get("text"))
            and c.params.get("chat_id") in (users[5], str(users[5]))
        )
    )
    # Places 2…5 became 1…4: not a step of five, nothing more said to them.
    time.sleep(0.5)
    for user in users[1:5]:
        assert sum("в очереди" in text for text in told(user)) == 1


def test_an_answer_to_a_clients_message_goes_out_as_a_reply_to_it(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    connect_bot(polling, topic_seconds=0)
    telegram.user_sends(TOKEN, USER, text="Сколько стоит доставка?")
    asked = telegram.delivered[-1]["message"]["message_id"]
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    history = anna.http.get(f"/api/requests/{card['id']}/messages").json()
    question = next(m for m in history if m["body"] == "Сколько стоит доставка?")
    answer = anna.http.post(
        f"/api/requests/{card['id']}/messages",
        json={"body": "300 рублей", "reply_to_id": question["id"]},
    )
    assert answer.status_code == 201, answer.text
    sent = telegram.wait_for(lambda c: "300 рублей" in str(c.params.get("text")))
    reply_to = sent.params["reply_parameters"]
    reply_to = json.loads(reply_to) if isinstance(reply_to, str) else reply_to
    assert reply_to["message_id"] == asked
    # An ordinary message is no reply.
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Ещё вопросы?"})
    plain = telegram.wait_for(lambda c: "Ещё вопросы?" in str(c.params.get("text")))
    assert "reply_parameters" not in plain.params


def test_a_telegram_client_rates_with_buttons_and_comments_in_a_message(
    polling: LiveServer, telegram: FakeTelegram
) -> None:
    bot = connect_bot(polling, topic_seconds=0)
    admin = polling.login("admin")
    admin.http.patch(f"/api/admin/resources/{bot['id']}", json={"rating_enabled": True})
    telegram.user_sends(TOKEN, USER, text="Где мой заказ?")
    anna = polling.login("anna")
    card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    assert anna.http.post(f"/api/requests/{card['id']}/close").status_code == 204

    asked = telegram.wait_for(lambda c: "оцените" in str(c.params.get("text")))
    keyboard = asked.params["reply_markup"]
    keyboard = json.loads(keyboard) if isinstance(keyboard, str) else keyboard
    (row,) = keyboard["inline_keyboard"]
    assert [b["text"] for b in row] == ["1", "2", "3", "4", "5"]
    telegram.user_presses(TOKEN, USER, row[3]["callback_data"])
    telegram.wait_for(lambda c: "Спасибо за оценку" in str(c.params.get("text")))
    # The next message is the comment, not a new request.
    telegram.user_sends(TOKEN, USER, text="Всё отлично, спасибо")
    telegram.wait_for(lambda c: "Спасибо за отзыв" in str(c.params.get("text")))
    # Pressed again: told politely that the rating is already counted.
    telegram.user_presses(TOKEN, USER, row[0]["callback_data"])
    telegram.wait_for(lambda c: "уже учтена" in str(c.params.get("text")))

    history = anna.http.get(f"/api/requests/{card['id']}/messages").json()
    transitions = {m["meta"].get("transition"): m["meta"] for m in history}
    assert transitions["rating.received"]["score"] == 4
    assert transitions["rating.commented"]["comment"] == "Всё отлично, спасибо"
    assert anna.http.get("/api/requests/queue").json() == []
