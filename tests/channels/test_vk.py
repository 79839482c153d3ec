"""The VK channel against a local VK API server (real wire format, no internet)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels.fake_vk import FakeVk
from tests.channels.messenger_flow import (
    TOPICS,
    add_queues_for_anna,
    failed_delivery,
    queue_cards,
    start_messenger_server,
    wait_until,
)
from tests.harness import LiveServer
from tests.pictures import picture

TOKEN = "vk1.a.community-token-for-imp-tests_0123456789"
GROUP = 221133
USER = 4401

LABEL = picture(80, 40, color="orange")


@pytest.fixture
def vk() -> Iterator[FakeVk]:
    fake = FakeVk().start()
    fake.add_community(TOKEN, GROUP, name="Магазин IMP", screen_name="impshop")
    fake.add_user(USER, "Иван", "Петров", screen_name="ivan_petrov")
    yield fake
    fake.stop()


def start_server(
    settings_factory: Any, vk: FakeVk, mode: str, backend: str = "sqlite", **overrides: object
) -> LiveServer:
    return start_messenger_server(
        settings_factory, backend, vk_api_url=vk.base_url, vk_mode=mode, **overrides
    )


def connect_community(server: LiveServer, topic_seconds: int = 30) -> dict[str, Any]:
    admin = server.login("admin")
    response = admin.http.post(
        "/api/admin/resources/vk",
        json={"token": TOKEN, "group_id": GROUP, "topic_choice_seconds": topic_seconds},
    )
    assert response.status_code == 201, response.text
    community = response.json()
    assert community["kind"] == "vk" and community["bot_username"] == "impshop"
    assert community["name"] == "Магазин IMP" and TOKEN not in response.text
    add_queues_for_anna(server, community["id"], TOPICS)
    return community


def text_of(call: Any) -> str:
    return str(call.params.get("message", ""))


def keyboard_of(call: Any) -> dict[str, Any]:
    return dict(json.loads(call.params["keyboard"]))


@pytest.fixture
def polling(settings_factory: Any, vk: FakeVk) -> Iterator[LiveServer]:
    live = start_server(settings_factory, vk, "polling")
    yield live
    live.stop()


def test_wrong_credentials_are_refused_with_clear_messages(polling: LiveServer, vk: FakeVk) -> None:
    admin = polling.login("admin")

    def connect(token: str, group_id: int) -> Any:
        return admin.http.post(
            "/api/admin/resources/vk", json={"token": token, "group_id": group_id}
        )

    unknown = connect("vk1.a.no-such-token-anywhere-000", GROUP)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "vk_token_rejected"
    assert unknown.json()["detail"] == "VK did not accept this community token."

    other = connect(TOKEN, GROUP + 1)
    assert other.status_code == 422 and other.json()["code"] == "vk_group_mismatch"
    assert other.json()["params"] == {"group_id": GROUP}

    vk.add_community("vk1.a.token-without-manage-rights-00", 5005, name="Другое")
    vk.communities["vk1.a.token-without-manage-rights-00"].may_manage = False
    weak = connect("vk1.a.token-without-manage-rights-00", 5005)
    assert weak.status_code == 422 and weak.json()["code"] == "vk_token_lacks_rights"

    assert connect("not a token", GROUP).status_code == 422
    assert admin.http.get("/api/admin/resources").json()[-1]["kind"] == "website"
    # The same community twice is refused too.
    connect_community(polling)
    again = connect(TOKEN, GROUP)
    assert again.status_code == 409 and again.json()["code"] == "community_already_connected"


def test_start_topic_choice_and_exchange_both_ways(polling: LiveServer, vk: FakeVk) -> None:
    community = connect_community(polling)
    assert vk.communities[TOKEN].long_poll["enabled"] == "1"
    assert vk.communities[TOKEN].long_poll["message_new"] == "1"
    vk.user_starts(TOKEN, USER)
    vk.wait_for(lambda c: "Здравствуйте" in text_of(c))
    offer = vk.wait_for(lambda c: "keyboard" in c.params)
    assert text_of(offer) == "Выберите тему обращения:"
    keyboard = keyboard_of(offer)
    assert keyboard["inline"] is True
    buttons = [row[0] for row in keyboard["buttons"]]
    assert [b["action"]["label"] for b in buttons] == ["Orders", "Returns"]
    assert {b["action"]["type"] for b in buttons} == {"callback"}

    press = vk.user_presses(TOKEN, USER, buttons[1]["action"]["payload"])
    answer = vk.wait_for(lambda c: c.method == "messages.sendMessageEventAnswer")
    assert answer.params["event_id"] == press["object"]["event_id"]
    vk.wait_for(lambda c: text_of(c) == "Тема выбрана: Returns")

    vk.user_sends(TOKEN, USER, "Хочу вернуть товар")
    vk.wait_for(lambda c: "подождите" in text_of(c))  # W-4 reaches VK
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    assert card["queue"]["name"] == "Returns" and card["client"]["name"] == "Иван Петров"
    assert card["resource"]["id"] == community["id"]
    assert anna.http.post(f"/api/requests/{card['id']}/accept").status_code == 200
    client = anna.http.get(f"/api/clients/{card['client']['id']}").json()
    assert client["channel"] == "vk" and client["language"] == "ru"
    assert ("vk", "https://vk.com/ivan_petrov") in [
        (c["kind"], c["value"]) for c in client["contacts"]
    ]

    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Оформим возврат!"})
    reply = vk.wait_for(lambda c: "Оформим возврат!" in text_of(c))
    assert str(reply.params["user_id"]) == str(USER)
    assert text_of(reply) == "Анна Смирнова:\nОформим возврат!"  # signed with their name

    # The client's photo arrives at its largest size, the caption as the message.
    vk.user_sends_photo(TOKEN, USER, b"\xff\xd8\xff big photo", caption="Вот чек")
    (photo_message,) = wait_until(
        lambda: [
            m
            for m in anna.http.get(f"/api/requests/{card['id']}/messages").json()
            if m["body"] == "Вот чек"
        ]
    )
    (photo,) = photo_message["attachments"]
    assert anna.http.get(photo["url"]).content == b"\xff\xd8\xff big photo"

    vk.user_sends_document(TOKEN, USER, "акт.pdf", b"%PDF-1.4 act")
    vk.user_sends_voice(TOKEN, USER, b"OggS voice")

    def files_named(name: str) -> list[dict[str, Any]]:
        return [
            a
            for m in anna.http.get(f"/api/requests/{card['id']}/messages").json()
            for a in m["attachments"]
            if a["file_name"] == name
        ]

    (document,) = wait_until(lambda: files_named("акт.pdf"))
    assert anna.http.get(document["url"]).content == b"%PDF-1.4 act"
    (voice,) = wait_until(lambda: files_named("voice.ogg"))
    assert anna.http.get(voice["url"]).content == b"OggS voice"
    history = anna.http.get(f"/api/requests/{card['id']}/messages").json()
    assert "[голосовое сообщение]" in [m["body"] for m in history]

    # An employee's picture goes up VK's photo upload server, a file up its documents one.
    upload = anna.http.post("/api/files", files={"file": ("label.png", LABEL, "image/png")}).json()
    contract = "Договор №12".encode() * 100
    document_upload = anna.http.post(
        "/api/files", files={"file": ("договор.txt", contract, "text/plain")}
    ).json()
    anna.http.post(
        f"/api/requests/{card['id']}/messages",
        json={
            "body": "Наклейка и договор",
            "attachment_ids": [upload["id"], document_upload["id"]],
        },
    )
    sent = vk.wait_for(lambda c: "Наклейка и договор" in text_of(c))
    photo_key, doc_key = sent.params["attachment"].split(",")
    assert photo_key.startswith(f"photo-{GROUP}_") and vk.saved[photo_key].data == LABEL
    assert doc_key.startswith(f"doc-{GROUP}_") and vk.saved[doc_key].data == contract
    assert vk.saved[doc_key].file_name == "договор.txt"


def test_an_employees_voice_recording_goes_as_a_voice_message(
    polling: LiveServer, vk: FakeVk
) -> None:
    connect_community(polling, topic_seconds=0)
    vk.user_sends(TOKEN, USER, "Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    upload = anna.http.post(
        "/api/files", files={"file": ("ответ.ogg", b"OggS reply", "audio/ogg")}
    ).json()
    anna.http.post(
        f"/api/requests/{card['id']}/messages", json={"body": "", "attachment_ids": [upload["id"]]}
    )
    sent = vk.wait_for(lambda c: bool(c.params.get("attachment")))
    (key,) = sent.params["attachment"].split(",")
    assert vk.saved[key].kind == "audio_message" and vk.saved[key].data == b"OggS reply"


def test_default_queue_timeout_close_and_new_request(polling: LiveServer, vk: FakeVk) -> None:
    connect_community(polling, topic_seconds=1)
    vk.user_sends(TOKEN, USER, "Вопрос без темы")
    vk.wait_for(lambda c: "keyboard" in c.params)  # asked to choose
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"), timeout=15)[0]
    assert card["queue"]["name"] == "Orders"  # the first queue became the default
    anna.http.post(f"/api/requests/{card['id']}/accept")
    anna.http.post(f"/api/requests/{card['id']}/close")
    vk.user_sends(TOKEN, USER, "Новый вопрос")
    new = wait_until(
        lambda: [r for r in queue_cards(polling, "vk") if r["id"] != card["id"]], timeout=15
    )
    assert new[0]["last_message"]["body"] == "Новый вопрос"


def test_blocked_client_gets_a_polite_refusal(polling: LiveServer, vk: FakeVk) -> None:
    connect_community(polling, topic_seconds=0)
    vk.user_sends(TOKEN, USER, "Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    anna.http.post(f"/api/requests/{card['id']}/block")
    vk.user_sends(TOKEN, USER, "Ещё раз")
    vk.wait_for(lambda c: "больше не можете" in text_of(c))


def test_rate_limit_is_honoured_and_delivery_retried(polling: LiveServer, vk: FakeVk) -> None:
    connect_community(polling, topic_seconds=0)
    vk.user_sends(TOKEN, USER, "Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    vk.refuse_once[("messages.send", "После паузы")] = 6  # "Too many requests per second"
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "После паузы"})
    anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "И следом"})
    delivered = vk.wait_for(lambda c: "После паузы" in text_of(c), timeout=15)
    following = vk.wait_for(lambda c: "И следом" in text_of(c), timeout=15)
    [refused] = vk.refused
    assert delivered.at - refused.at >= 1.0  # retried once a second had passed
    assert following.at >= delivered.at  # and what was written after it waited its turn
    assert sum("После паузы" in t for t in vk.texts_to(USER)) == 1


def test_vk_down_delays_delivery_and_loses_nothing(polling: LiveServer, vk: FakeVk) -> None:
    connect_community(polling, topic_seconds=0)
    vk.user_sends(TOKEN, USER, "Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    vk.down = True
    sent = anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Дойдёт позже"})
    wait_until(lambda: [c for c in vk.refused if c.method == "messages.send"])
    message = next(
        m
        for m in anna.http.get(f"/api/requests/{card['id']}/messages").json()
        if m["id"] == sent.json()["id"]
    )
    assert "delivery" not in message["meta"]  # waiting, not failed
    vk.down = False
    vk.wait_for(lambda c: "Дойдёт позже" in text_of(c), timeout=20)


def test_a_message_vk_refuses_for_good_is_marked_on_it(polling: LiveServer, vk: FakeVk) -> None:
    connect_community(polling, topic_seconds=0)
    vk.user_sends(TOKEN, USER, "Привет")
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    # The client took back their permission for the community to write to them.
    vk.allowed.discard((GROUP, USER))
    sent = anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Не дойдёт"}).json()
    message = failed_delivery(anna, card["id"], sent["id"])
    assert "901" in message["meta"]["delivery_error"]


def test_an_answer_to_a_clients_message_goes_out_as_a_reply_to_it(
    polling: LiveServer, vk: FakeVk
) -> None:
    connect_community(polling, topic_seconds=0)
    asked = vk.user_sends(TOKEN, USER, "Сколько стоит доставка?")
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    history = anna.http.get(f"/api/requests/{card['id']}/messages").json()
    question = next(m for m in history if m["body"] == "Сколько стоит доставка?")
    anna.http.post(
        f"/api/requests/{card['id']}/messages",
        json={"body": "300 рублей", "reply_to_id": question["id"]},
    )
    sent = vk.wait_for(lambda c: "300 рублей" in text_of(c))
    forward = json.loads(sent.params["forward"])
    assert forward == {
        "peer_id": USER,
        "conversation_message_ids": [asked["object"]["message"]["conversation_message_id"]],
        "is_reply": True,
    }


def test_a_vk_client_rates_with_buttons_and_comments_in_a_message(
    polling: LiveServer, vk: FakeVk
) -> None:
    community = connect_community(polling, topic_seconds=0)
    polling.login("admin").http.patch(
        f"/api/admin/resources/{community['id']}", json={"rating_enabled": True}
    )
    vk.user_sends(TOKEN, USER, "Где мой заказ?")
    anna = polling.login("anna")
    card = wait_until(lambda: queue_cards(polling, "vk"))[0]
    anna.http.post(f"/api/requests/{card['id']}/accept")
    anna.http.post(f"/api/requests/{card['id']}/close")
    asked = vk.wait_for(lambda c: "оцените" in text_of(c))
    (row,) = keyboard_of(asked)["buttons"]
    assert [b["action"]["label"] for b in row] == ["1", "2", "3", "4", "5"]
    vk.user_presses(TOKEN, USER, row[3]["action"]["payload"])
    vk.wait_for(lambda c: "Спасибо за оценку" in text_of(c))
    vk.user_sends(TOKEN, USER, "Всё отлично")
    vk.wait_for(lambda c: "Спасибо за отзыв" in text_of(c))
    history = anna.http.get(f"/api/requests/{card['id']}/messages").json()
    transitions = {m["meta"].get("transition"): m["meta"] for m in history}
    assert transitions["rating.received"]["score"] == 4
    assert transitions["rating.commented"]["comment"] == "Всё отлично"


# -- the Callback API ------------------------------------------------------------------------


@pytest.fixture
def webhook(settings_factory: Any, vk: FakeVk) -> Iterator[LiveServer]:
    live = start_server(settings_factory, vk, "webhook")
    yield live
    live.stop()


def test_callback_api_confirmation_secret_and_refusals(webhook: LiveServer, vk: FakeVk) -> None:
    community = connect_community(webhook, topic_seconds=0)
    server = vk.wait_confirmed(TOKEN)
    assert server["url"] == f"{webhook.base_url}/api/channels/vk/{community['id']}/callback"
    assert server["secret_key"] and server["settings"]["message_new"] == "1"
    assert server["settings"]["message_event"] == "1"
    assert vk.communities[TOKEN].long_poll == {}

    event = vk.user_sends(TOKEN, USER, "Через Callback API")
    assert vk.callback_answers[-1] == (200, "ok")
    card = wait_until(lambda: queue_cards(webhook, "vk"))[0]
    assert card["last_message"]["body"] == "Через Callback API"

    forged = {
        **event,
        "object": {
            **event["object"],
            "message": {
                **event["object"]["message"],
                "id": 999,
                "from_id": 777,
                "peer_id": 777,
                "text": "hack",
            },
        },
    }
    assert vk.post_to_callback(TOKEN, forged, secret="wrong-secret")[0] == 403
    assert vk.post_to_callback(TOKEN, forged)[0] == 403  # no secret at all
    assert (
        vk.post_to_callback(TOKEN, {**forged, "group_id": 1}, secret=server["secret_key"])[0] == 403
    )
    assert vk.post_to_callback(TOKEN, b"{not json")[0] == 422
    # With the secret, yet not the shape of an event inside: answered, and nothing made.
    secret = server["secret_key"]
    for odd in (
        {"type": "message_new", "group_id": GROUP, "object": [1]},
        {"type": "message_new", "group_id": GROUP, "object": {"message": {"from_id": "x"}}},
        {"type": "message_new", "group_id": GROUP, "object": {"message": {"from_id": 5}}},
        {"type": "message_event", "group_id": GROUP, "object": {"user_id": USER}},
        {"type": "wall_post_new", "group_id": GROUP, "object": {}},
    ):
        assert vk.post_to_callback(TOKEN, odd, secret=secret) == (200, "ok"), odd
    assert vk.post_to_callback(TOKEN, b"[1, 2]")[0] == 422
    oversized = json.dumps({**forged, "padding": "x" * (2 * 1024 * 1024)}).encode()
    assert vk.post_to_callback(TOKEN, oversized)[0] == 413
    assert len(queue_cards(webhook, "vk")) == 1  # none of them made a request

    # VK sends an event again when "ok" did not reach it; a copy replayed later is the same
    # event too: acknowledged, and no second message or request, even once the first closed.
    anna = webhook.login("anna")
    anna.http.post(f"/api/requests/{card['id']}/accept")
    anna.http.post(f"/api/requests/{card['id']}/close")
    assert vk.post_to_callback(TOKEN, event, secret=server["secret_key"]) == (200, "ok")
    time.sleep(0.3)
    assert queue_cards(webhook, "vk") == []

    # Removing the resource stops taking its events.
    webhook.login("admin").http.delete(f"/api/admin/resources/{community['id']}")
    fresh = {
        **event,
        "object": {**event["object"], "message": {**event["object"]["message"], "id": 1000}},
    }
    assert vk.post_to_callback(TOKEN, fresh, secret=server["secret_key"])[0] == 404


def test_postgres_and_redis_too(settings_factory: Any, vk: FakeVk) -> None:
    live = start_server(settings_factory, vk, "webhook", backend="postgres")
    try:
        connect_community(live, topic_seconds=0)
        vk.wait_confirmed(TOKEN)
        vk.user_sends(TOKEN, USER, "На PostgreSQL")
        anna = live.login("anna")
        card = wait_until(lambda: queue_cards(live, "vk"))[0]
        anna.http.post(f"/api/requests/{card['id']}/accept")
        anna.http.post(f"/api/requests/{card['id']}/messages", json={"body": "Ответ"})
        vk.wait_for(lambda c: "Ответ" in text_of(c))
    finally:
        live.stop()
