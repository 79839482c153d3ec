"""Replies to a message: a quote of it above the answer, in rooms and requests."""

from __future__ import annotations

from tests.api.test_requests import taken
from tests.api.test_rooms import new_room, send
from tests.harness import LiveServer


def test_a_reply_in_a_room_quotes_its_message(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    question = send(boris, room["id"], "Где накладная на *заказ 42*?")
    with boris.socket() as socket:
        answer = send(anna, room["id"], "В папке «Склад»", reply_to_id=question["id"])
        event = socket.event("message.created")["message"]
    for message in (answer, event):
        quote = message["reply_to"]
        assert quote["id"] == question["id"] and quote["body"] == question["body"]
        assert quote["author"] == {
            "kind": "employee",
            "id": boris.me["id"],
            "name": "Борис Петров",
            "avatar_url": None,
        }
        assert quote["deleted"] is False
    history = anna.http.get(f"/api/rooms/{room['id']}/messages").json()
    assert history[-1]["reply_to"]["id"] == question["id"]
    assert history[-2]["reply_to"] is None

    # The quoted message deleted: the answer says so and keeps nothing of its text.
    assert (
        boris.http.delete(f"/api/rooms/{room['id']}/messages/{question['id']}").status_code == 204
    )
    quote = anna.http.get(f"/api/rooms/{room['id']}/messages").json()[-1]["reply_to"]
    assert quote["deleted"] is True and quote["body"] == ""


def test_a_reply_must_answer_a_message_of_the_same_conversation(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    other = new_room(anna, "olga")
    elsewhere = send(anna, other["id"], "в другой комнате")
    renamed = anna.http.patch(f"/api/rooms/{room['id']}", json={"name": "Новое имя"})
    assert renamed.status_code == 200
    system_line = anna.http.get(f"/api/rooms/{room['id']}/messages").json()[-1]
    assert system_line["kind"] == "system"
    for target in (elsewhere["id"], system_line["id"], 999_999):
        refused = anna.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "ответ", "reply_to_id": target}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "reply_target_unavailable"
    zero = anna.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "ответ", "reply_to_id": 0}
    )
    assert zero.status_code == 422


def test_the_client_sees_a_quote_of_their_message_but_never_of_a_note(
    server: LiveServer,
) -> None:
    anna, visitor, request_id = taken(server, "anna")
    history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    question = next(m for m in history if m["author"]["kind"] == "client")
    note = anna.http.post(
        f"/api/requests/{request_id}/notes", json={"body": "Секрет: скидка 5% максимум"}
    ).json()
    with visitor.socket() as widget:
        to_client = anna.http.post(
            f"/api/requests/{request_id}/messages",
            json={"body": "Конечно, поможем", "reply_to_id": question["id"]},
        )
        assert to_client.status_code == 201, to_client.text
        quoting_note = anna.http.post(
            f"/api/requests/{request_id}/messages",
            json={"body": "Можем дать скидку", "reply_to_id": note["id"]},
        )
        assert quoting_note.status_code == 201, quoting_note.text
        first = widget.receive_until(
            lambda f: (
                f.get("type") == "message.created" and f["message"]["body"] == "Конечно, поможем"
            )
        )["message"]
        second = widget.receive_until(
            lambda f: (
                f.get("type") == "message.created" and f["message"]["body"] == "Можем дать скидку"
            )
        )["message"]
    assert first["reply_to"]["body"] == question["body"]
    assert first["reply_to"]["author"]["kind"] == "client"
    assert second["reply_to"] is None
    # The employee sees the quote of the note; the client's history never holds it.
    assert quoting_note.json()["reply_to"]["body"] == note["body"]
    assert "Секрет" not in str(visitor.conversation())
    assert "Секрет" not in str(widget.seen)


def test_a_visitor_cannot_send_employee_fields(server: LiveServer) -> None:
    _, visitor, _ = taken(server, "anna")
    refused = visitor.send("привет", reply_to_id=1)
    assert refused.status_code == 422
    refused = visitor.send("привет", mention_ids=[1])
    assert refused.status_code == 422
