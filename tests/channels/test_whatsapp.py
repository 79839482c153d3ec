"""The WhatsApp channel against a local Cloud API server (real wire format, no internet)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.channels.fake_whatsapp import FakeWhatsApp, SentCall, sign
from tests.channels.messenger_flow import (
    add_queues_for_anna,
    failed_delivery,
    queue_cards,
    start_messenger_server,
    wait_until,
)
from tests.harness import LiveServer, Session
from tests.pictures import picture

NUMBER = "106540352242922"
ACCOUNT = "102290129340398"
TOKEN = "EAAGm0PX4ZCpsBAtest-token-for-imp-0123456789"
APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY = "imp-verify-phrase"
USER = "79161234567"

LABEL = picture(80, 40, color="orange")


@pytest.fixture
def whatsapp() -> Iterator[FakeWhatsApp]:
    fake = FakeWhatsApp().start()
    fake.add_number(NUMBER, ACCOUNT, TOKEN, APP_SECRET)
    yield fake
    fake.stop()


def start_server(
    settings_factory: Any, whatsapp: FakeWhatsApp, backend: str = "sqlite"
) -> LiveServer:
    return start_messenger_server(settings_factory, backend, whatsapp_api_url=whatsapp.base_url)


CREDENTIALS = {
    "phone_number_id": NUMBER,
    "business_account_id": ACCOUNT,
    "access_token": TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY,
}


def connect_number(
    server: LiveServer,
    whatsapp: FakeWhatsApp,
    topics: tuple[str, ...] = ("Orders", "Returns"),
    topic_seconds: int = 30,
) -> dict[str, Any]:
    admin = server.login("admin")
    response = admin.http.post(
        "/api/admin/resources/whatsapp", json={**CREDENTIALS, "topic_choice_seconds": topic_seconds}
    )
    assert response.status_code == 201, response.text
    number = response.json()
    assert number["kind"] == "whatsapp" and number["bot_username"] == "+7 495 123-45-67"
    assert number["name"] == "IMP Shop"
    assert TOKEN not in response.text and APP_SECRET not in response.text
    assert whatsapp.numbers[NUMBER].subscribed  # the app hears the account's messages
    # The administrator gives Meta the webhook's address and the verify token.
    url = f"{server.base_url}/api/channels/whatsapp/{number['id']}/webhook"
    assert whatsapp.configure_webhook(NUMBER, url, VERIFY)
    add_queues_for_anna(
        server, number["id"], [*((name, True) for name in topics), ("Other", False)]
    )
    return number


def text_of(call: SentCall) -> str:
    return str((call.body.get("text") or {}).get("body", ""))


def taken(
    server: LiveServer, whatsapp: FakeWhatsApp, text: str = "Привет", **kw: Any
) -> tuple[Session, dict[str, Any]]:
    """A client's request, taken by Anna."""
    whatsapp.user_writes(NUMBER, USER, text, **kw)
    anna = server.login("anna")
    card = wait_until(lambda: queue_cards(server, "whatsapp"))[0]
    assert anna.http.post(f"/api/requests/{card['id']}/accept").status_code == 200
    return anna, card


def history(anna: Session, card: dict[str, Any]) -> list[dict[str, Any]]:
    return list(anna.http.get(f"/api/requests/{card['id']}/messages").json())


@pytest.fixture
def server(settings_factory: Any, whatsapp: FakeWhatsApp) -> Iterator[LiveServer]:
    live = start_server(settings_factory, whatsapp)
    yield live
    live.stop()


def test_wrong_credentials_are_refused_with_clear_messages(
    server: LiveServer, whatsapp: FakeWhatsApp
) -> None:
    admin = server.login("admin")

    def connect(**changes: str) -> Any:
        return admin.http.post("/api/admin/resources/whatsapp", json={**CREDENTIALS, **changes})

    cases = [
        ({"access_token": "EAAG-some-other-token-000"}, "whatsapp_token_rejected"),
        ({"app_secret": "fedcba9876543210fedcba9876543210"}, "whatsapp_app_secret_rejected"),
        ({"phone_number_id": "1234567"}, "whatsapp_number_not_found"),
        ({"business_account_id": "7654321"}, "whatsapp_account_not_found"),
    ]
    for changes, code in cases:
        response = connect(**changes)
        assert response.status_code == 422, (changes, response.text)
        assert response.json()["code"] == code
    assert connect(access_token="EAAG-some-other-token-000").json()["detail"] == (
        "WhatsApp did not accept this access token."
    )
    assert connect(app_secret="not hex at all").status_code == 422
    assert connect(phone_number_id="12ab").status_code == 422
    assert [r["kind"] for r in admin.http.get("/api/admin/resources").json()] == ["website"]

    number = connect_number(server, whatsapp)
    again = connect()
    assert again.status_code == 409 and again.json()["code"] == "number_already_connected"
    # Meta's check of the webhook's address with the wrong verify token is refused.
    url = f"{server.base_url}/api/channels/whatsapp/{number['id']}/webhook"
    assert not whatsapp.configure_webhook(NUMBER, url, "another phrase")


def test_topic_buttons_and_exchange_both_ways(server: LiveServer, whatsapp: FakeWhatsApp) -> None:
    connect_number(server, whatsapp)
    whatsapp.user_writes(NUMBER, USER, "Здравствуйте!")
    assert whatsapp.webhook_answers[-1] == 200
    offer = whatsapp.wait_for(lambda c: c.body.get("type") == "interactive")
    interactive = offer.body["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"]["text"] == "Выберите тему обращения:"
    buttons = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [b["title"] for b in buttons] == ["Orders", "Returns"]

    whatsapp.user_chooses(NUMBER, USER, buttons[1]["id"], "Returns", "button_reply")
    whatsapp.wait_for(lambda c: text_of(c) == "Тема выбрана: Returns")
    whatsapp.user_writes(NUMBER, USER, "Хочу вернуть товар")
    whatsapp.wait_for(lambda c: "подождите" in text_of(c))  # W-4 reaches WhatsApp

    anna = server.login("anna")
    card = wait_until(lambda: queue_cards(server, "whatsapp"))[0]
    assert card["queue"]["name"] == "Returns" and card["client"]["name"] == "Иван Петров"
    assert anna.http.post(f"/api/requests/{card['id']}/accept").status_code == 200
    client = anna.http.get(f"/api/clients/{card['client']['id']}").json()
    assert client["channel"] == "whatsapp" and client["language"] == "ru"
    assert ("whatsapp", f"+{USER}") in [(c["kind"], c["value"]) for c in client["contacts"]]
    bodies = [m["body"] for m in history(anna, card)]
    assert "Здравствуйте!" in bodies and "Хочу вернуть товар" in bodies

    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Оформим возврат!"})
    reply = whatsapp.wait_for(lambda c: "Оформим возврат!" in text_of(c))
    assert reply.body["to"] == USER and text_of(reply) == "Анна Смирнова:\nОформим возврат!"

    # The client's files: fetched by their media id, then downloaded with the token.
    whatsapp.user_sends_media(
        NUMBER, USER, "image", b"\xff\xd8\xff receipt", "image/jpeg", caption="Вот чек"
    )
    whatsapp.user_sends_media(
        NUMBER, USER, "document", b"%PDF-1.4 act", "application/pdf", filename="акт.pdf"
    )
    whatsapp.user_sends_media(
        NUMBER, USER, "audio", b"OggS voice", "audio/ogg; codecs=opus", voice=True
    )

    def attachment(name: str) -> list[dict[str, Any]]:
        return [a for m in history(anna, card) for a in m["attachments"] if a["file_name"] == name]

    (photo,) = wait_until(lambda: attachment("photo.jpg"))
    assert anna.http.get(photo["url"]).content == b"\xff\xd8\xff receipt"
    assert "Вот чек" in [m["body"] for m in history(anna, card)]
    (document,) = wait_until(lambda: attachment("акт.pdf"))
    assert anna.http.get(document["url"]).content == b"%PDF-1.4 act"
    (voice,) = wait_until(lambda: attachment("voice.ogg"))
    assert anna.http.get(voice["url"]).content == b"OggS voice"
    assert "[голосовое сообщение]" in [m["body"] for m in history(anna, card)]

    # The employee's files: uploaded to WhatsApp, then sent by their media id.
    picture_file = anna.http.post(
        "/api/files", files={"file": ("label.png", LABEL, "image/png")}
    ).json()
    contract = "Договор №12".encode() * 100
    document_file = anna.http.post(
        "/api/files", files={"file": ("договор.txt", contract, "text/plain")}
    ).json()
    recording = anna.http.post(
        "/api/files", files={"file": ("ответ.ogg", b"OggS answer", "audio/ogg")}
    ).json()
    anna.http.post(
        f"/api/requests/{card['id']}/messages",
        json={
            "body": "Наклейка, договор и голосовое",
            "attachment_ids": [picture_file["id"], document_file["id"], recording["id"]],
        },
    )
    whatsapp.wait_for(lambda c: "Наклейка, договор" in text_of(c))
    sent = {
        c.body["type"]: c.body
        for c in whatsapp.sent_to(USER)
        if c.body["type"] in ("image", "document", "audio")
    }
    assert whatsapp.media[sent["image"]["image"]["id"]][2] == LABEL
    assert whatsapp.media[sent["document"]["document"]["id"]][2] == contract
    assert sent["document"]["document"]["filename"] == "договор.txt"
    assert whatsapp.media[sent["audio"]["audio"]["id"]][2] == b"OggS answer"


def test_more_than_three_topics_come_as_a_list(server: LiveServer, whatsapp: FakeWhatsApp) -> None:
    connect_number(server, whatsapp, topics=("Orders", "Returns", "Delivery", "Payment"))
    whatsapp.user_writes(NUMBER, USER, "Вопрос")
    offer = whatsapp.wait_for(lambda c: c.body.get("type") == "interactive")
    interactive = offer.body["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Темы"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["Orders", "Returns", "Delivery", "Payment"]
    whatsapp.user_chooses(NUMBER, USER, rows[2]["id"], "Delivery", "list_reply")
    whatsapp.wait_for(lambda c: text_of(c) == "Тема выбрана: Delivery")
    card = wait_until(lambda: queue_cards(server, "whatsapp"))[0]
    assert card["queue"]["name"] == "Delivery"


def test_unsigned_forged_malformed_oversized_and_replayed_calls_are_refused(
    server: LiveServer, whatsapp: FakeWhatsApp, caplog: pytest.LogCaptureFixture
) -> None:
    number = connect_number(server, whatsapp, topic_seconds=0)
    url = f"{server.base_url}/api/channels/whatsapp/{number['id']}/webhook"
    notification = whatsapp.user_writes(NUMBER, USER, "Настоящее сообщение")
    card = wait_until(lambda: queue_cards(server, "whatsapp"))[0]

    forged = json.loads(json.dumps(notification))
    message = forged["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id="wamid.forged", text={"body": "Подделка"})
    body = json.dumps(forged).encode()
    with caplog.at_level(logging.WARNING):
        assert whatsapp.post(url, body, {}) == 401
        assert (
            whatsapp.post(url, body, {"X-Hub-Signature-256": sign(body, "a-wrong-secret")}) == 403
        )
        assert whatsapp.post(url, body, {"X-Hub-Signature-256": "sha256=00"}) == 403
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "Unsigned WhatsApp notification" in logged and "wrong signature" in logged

    def signed(raw: bytes) -> int:
        return whatsapp.post(url, raw, {"X-Hub-Signature-256": sign(raw, APP_SECRET)})

    assert signed(b"{not json") == 422
    # Signed, yet not the shape of a notification anywhere inside: taken, and nothing made.
    odd_shapes = [
        {"object": "whatsapp_business_account", "entry": "x"},
        {"object": "whatsapp_business_account", "entry": ["x", {"changes": {"a": 1}}]},
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": ["x", {"field": "messages", "value": {"metadata": "x"}}]}],
        },
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": NUMBER},
                                "contacts": [{"wa_id": USER, "profile": "x"}, 5],
                                "messages": [
                                    {"from": "not digits", "id": "wamid.x", "type": "text"},
                                    {"from": USER, "type": "text", "text": {"body": "без id"}},
                                    7,
                                ],
                                "statuses": [
                                    {"id": "wamid.unknown", "status": "failed", "errors": 3}
                                ],
                            },
                        }
                    ]
                }
            ],
        },
    ]
    for shape in odd_shapes:
        assert signed(json.dumps(shape).encode()) == 200, shape
    assert signed(json.dumps({**forged, "object": "page"}).encode()) == 422
    huge = json.dumps({**forged, "padding": "x" * (2 * 1024 * 1024)}).encode()
    assert signed(huge) == 413
    anna = server.login("anna")
    assert anna.http.post(f"/api/requests/{card['id']}/accept").status_code == 200
    assert "Подделка" not in [m["body"] for m in history(anna, card)]

    # Meta sends a notification again until it hears 200, for days: the same message is one
    # message, and a copy replayed after the request closed opens no new one.
    anna.http.post(f"/api/requests/{card['id']}/close")
    assert whatsapp.deliver(NUMBER, notification) == 200
    time.sleep(0.3)
    assert queue_cards(server, "whatsapp") == []
    assert [m["body"] for m in history(anna, card)].count("Настоящее сообщение") == 1


def test_rate_limit_is_honoured_and_delivery_retried(
    server: LiveServer, whatsapp: FakeWhatsApp
) -> None:
    connect_number(server, whatsapp, topic_seconds=0)
    anna, card = taken(server, whatsapp)
    whatsapp.refuse_once["После паузы"] = 130429  # the number's throughput reached
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "После паузы"})
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "И следом"})
    delivered = whatsapp.wait_for(lambda c: "После паузы" in text_of(c), timeout=15)
    following = whatsapp.wait_for(lambda c: "И следом" in text_of(c), timeout=15)
    [refused] = whatsapp.refused
    assert delivered.at - refused.at >= 2.0  # retried once the pause had passed
    assert following.at >= delivered.at


def test_past_24_hours_only_a_template_goes_out(server: LiveServer, whatsapp: FakeWhatsApp) -> None:
    connect_number(server, whatsapp, topic_seconds=0)
    yesterday = time.time() - 25 * 3600
    anna, card = taken(server, whatsapp, "Вопрос вчера", sent_at=yesterday)
    window = anna.http.get(f"/api/channels/whatsapp/requests/{card['id']}/window").json()
    assert window["open"] is False and window["templates_error"] is None
    closed_at = datetime.fromisoformat(window["closes_at"])
    assert abs(closed_at.timestamp() - (yesterday + 24 * 3600)) < 2
    # Approved templates IMP can fill in: not one pending, not one with a picture header.
    assert [(t["name"], t["language"], t["parameters"]) for t in window["templates"]] == [
        ("order_update", "ru", 2),
        ("hello_world", "en_US", 0),
    ]

    # A free message now is not silently dropped: marked, and never sent.
    free = anna.http.post(
        f"/api/requests/{card['id']}/messages", json={"body": "Свободный текст"}
    ).json()
    refused = failed_delivery(anna, card["id"], free["id"])
    assert "24 hours" in refused["meta"]["delivery_error"]
    assert not [
        c for c in whatsapp.sent if "Свободный текст" in json.dumps(c.body, ensure_ascii=False)
    ]

    path = f"/api/channels/whatsapp/requests/{card['id']}/templates"
    wrong = anna.http.post(
        path, json={"name": "order_update", "language": "ru", "parameters": ["Иван"]}
    )
    assert wrong.status_code == 422 and wrong.json()["params"] == {"count": 2}
    unknown = anna.http.post(path, json={"name": "spring_sale", "language": "ru", "parameters": []})
    assert unknown.status_code == 422 and unknown.json()["code"] == "whatsapp_template_not_found"
    chosen = {
        "name": "order_update",
        "language": "ru",
        "parameters": ["Иван", "заказ передан в доставку"],
        "client_message_id": "template-1",
    }
    sent = anna.http.post(path, json=chosen)
    assert sent.status_code == 201, sent.text
    assert (
        sent.json()["body"] == "Здравствуйте, Иван! По вашему обращению: заказ передан в доставку"
    )
    assert anna.http.post(path, json=chosen).json()["id"] == sent.json()["id"]  # a retry
    template = whatsapp.wait_for(lambda c: c.body.get("type") == "template").body["template"]
    assert template == {
        "name": "order_update",
        "language": {"code": "ru"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Иван"},
                    {"type": "text", "text": "заказ передан в доставку"},
                ],
            }
        ],
    }
    time.sleep(0.5)
    assert len([c for c in whatsapp.sent if c.body.get("type") == "template"]) == 1
    message = next(m for m in history(anna, card) if m["id"] == sent.json()["id"])
    assert message["meta"].get("delivery") != "failed"

    # The client answers: the window is open again for a day.
    whatsapp.user_writes(NUMBER, USER, "Спасибо!")
    reopened = wait_until(
        lambda: anna.http.get(f"/api/channels/whatsapp/requests/{card['id']}/window").json()["open"]
    )
    assert reopened
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Рады помочь"})
    whatsapp.wait_for(lambda c: "Рады помочь" in text_of(c))


def test_a_failure_whatsapp_reports_later_is_marked_on_the_message(
    server: LiveServer, whatsapp: FakeWhatsApp
) -> None:
    connect_number(server, whatsapp, topic_seconds=0)
    anna, card = taken(server, whatsapp)
    whatsapp.undeliverable.add(USER)
    sent = anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Не дойдёт"}).json()
    whatsapp.wait_for(lambda c: "Не дойдёт" in text_of(c))  # taken by WhatsApp first
    message = failed_delivery(anna, card["id"], sent["id"])
    assert "131026" in message["meta"]["delivery_error"]


def test_whatsapp_down_delays_delivery_and_loses_nothing(
    server: LiveServer, whatsapp: FakeWhatsApp
) -> None:
    connect_number(server, whatsapp, topic_seconds=0)
    anna, card = taken(server, whatsapp)
    whatsapp.down = True
    sent = anna.http.post(
        f"/api/requests/{card['id']}/messages", json={"body": "Дойдёт позже"}
    ).json()
    time.sleep(1.5)
    message = next(m for m in history(anna, card) if m["id"] == sent["id"])
    assert "delivery" not in message["meta"]  # waiting, not failed
    whatsapp.down = False
    whatsapp.wait_for(lambda c: "Дойдёт позже" in text_of(c), timeout=20)


def test_a_whatsapp_client_rates_from_a_list(server: LiveServer, whatsapp: FakeWhatsApp) -> None:
    number = connect_number(server, whatsapp, topic_seconds=0)
    server.login("admin").http.patch(
        f"/api/admin/resources/{number['id']}", json={"rating_enabled": True}
    )
    anna, card = taken(server, whatsapp)
    anna.http.post(f"/api/requests/{card['id']}/close")
    asked = whatsapp.wait_for(
        lambda c: (
            "оцените" in json.dumps(c.body, ensure_ascii=False) and c.body["type"] == "interactive"
        )
    )
    rows = asked.body["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["1", "2", "3", "4", "5"]
    whatsapp.user_chooses(NUMBER, USER, rows[4]["id"], "5", "list_reply")
    whatsapp.wait_for(lambda c: "Спасибо за оценку" in text_of(c))
    history_after = history(anna, card)
    assert {m["meta"].get("transition"): m["meta"] for m in history_after}["rating.received"][
        "score"
    ] == 5


def test_postgres_and_redis_too(settings_factory: Any, whatsapp: FakeWhatsApp) -> None:
    live = start_server(settings_factory, whatsapp, backend="postgres")
    try:
        connect_number(live, whatsapp, topic_seconds=0)
        anna, card = taken(live, whatsapp, "На PostgreSQL")
        anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Ответ"})
        whatsapp.wait_for(lambda c: "Ответ" in text_of(c))
        window = anna.http.get(f"/api/channels/whatsapp/requests/{card['id']}/window").json()
        assert window["open"] is True
        closes = datetime.fromisoformat(window["closes_at"])
        assert timedelta(hours=23) < closes - datetime.now(closes.tzinfo) <= timedelta(hours=24)
    finally:
        live.stop()
