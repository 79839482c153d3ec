"""Mentions: a colleague named with "@" in a room or a note is told, if they may read it."""

from __future__ import annotations

from tests.api.test_requests import taken
from tests.api.test_rooms import employee_ids, new_room, send
from tests.harness import LiveServer, Session


def mentions(session: Session, **params: object) -> dict:
    response = session.http.get("/api/mentions", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_mention_in_a_room_tells_the_person_and_is_read_with_the_room(
    server: LiveServer,
) -> None:
    anna, boris, olga = server.login("anna"), server.login("boris"), server.login("olga")
    ids = employee_ids(anna)
    room = new_room(anna, "boris", "olga", name="Склад")
    with boris.socket() as boris_socket, olga.socket() as olga_socket:
        message = send(
            anna, room["id"], "@Борис Петров посмотри накладную", mention_ids=[ids["boris"]]
        )
        told = boris_socket.event("mention.created")["mention"]
        assert told["message"]["id"] == message["id"]
        assert told["place"] == {"kind": "team", "id": room["id"], "name": "Склад"}
        assert told["read"] is False
        olga_socket.assert_silent("mention.created")
    assert message["meta"]["mentions"] == [{"id": ids["boris"], "name": "Борис Петров"}]
    listed = mentions(boris)
    assert listed["unread"] == 1
    assert [m["message"]["body"] for m in listed["mentions"]] == [message["body"]]
    assert mentions(olga) == {"unread": 0, "mentions": []}

    # Reading the room up to the message reads the mention, in every tab of the reader.
    with boris.socket() as boris_socket:
        boris.http.post(f"/api/rooms/{room['id']}/read", json={"message_id": message["id"]})
        assert boris_socket.event("mention.read")["mention_ids"] == [told["id"]]
    assert mentions(boris)["unread"] == 0
    assert mentions(boris)["mentions"][0]["read"] is True
    assert mentions(boris, unread_only=True)["mentions"] == []


def test_a_mention_of_someone_outside_the_room_does_not_reach_them(server: LiveServer) -> None:
    anna, emma = server.login("anna"), server.login("emma")
    ids = employee_ids(anna)
    room = new_room(anna, "boris", name="Секреты")
    with emma.socket() as emma_socket:
        message = send(anna, room["id"], "@Emma Wilson глянь", mention_ids=[ids["emma"]])
        emma_socket.assert_silent("mention.created")
    # The author is told on the message itself; Emma learns nothing.
    assert message["meta"]["unreachable_mentions"] == [{"id": ids["emma"], "name": "Emma Wilson"}]
    assert "mentions" not in message["meta"]
    assert mentions(emma) == {"unread": 0, "mentions": []}


def test_a_mention_in_a_note_reaches_those_who_serve_the_queue_only(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")  # the Sales queue
    boris, olga = server.login("boris"), server.login("olga")
    ids = employee_ids(anna)
    with boris.socket() as boris_socket, olga.socket() as olga_socket, visitor.socket() as widget:
        written = anna.http.post(
            f"/api/requests/{request_id}/notes",
            json={
                "body": "@Борис Петров @Ольга Иванова клиент просит скидку",
                "mention_ids": [ids["boris"], ids["olga"]],
            },
        )
        assert written.status_code == 201, written.text
        note = written.json()
        told = boris_socket.event("mention.created")["mention"]
        olga_socket.assert_silent("mention.created")
        widget.assert_silent("message.created")
    client_name = visitor.session["client"]["name"]
    assert told["place"] == {"kind": "request", "id": request_id, "name": client_name}
    assert told["message"]["kind"] == "note"
    assert note["meta"]["mentions"] == [{"id": ids["boris"], "name": "Борис Петров"}]
    assert note["meta"]["unreachable_mentions"] == [{"id": ids["olga"], "name": "Ольга Иванова"}]
    assert mentions(olga)["mentions"] == []
    # Boris serves Sales: he may read the request the mention leads to; Olga may not.
    assert boris.http.get(f"/api/requests/{request_id}/messages").status_code == 200
    assert olga.http.get(f"/api/requests/{request_id}/messages").status_code == 404
    assert "скидку" not in str(visitor.conversation())


def test_marking_mentions_read_touches_only_ones_own(server: LiveServer) -> None:
    anna, boris, olga = server.login("anna"), server.login("boris"), server.login("olga")
    ids = employee_ids(anna)
    room = new_room(anna, "boris", "olga")
    send(anna, room["id"], "@все", mention_ids=[ids["boris"], ids["olga"]])
    boris_mention = mentions(boris)["mentions"][0]["id"]
    # Olga names Boris's mention: nothing of his changes.
    assert olga.http.post("/api/mentions/read", json={"ids": [boris_mention]}).status_code == 204
    assert mentions(boris)["unread"] == 1
    assert olga.http.post("/api/mentions/read", json={"all": True}).status_code == 204
    assert mentions(olga)["unread"] == 0 and mentions(boris)["unread"] == 1
    assert boris.http.post("/api/mentions/read", json={"ids": [boris_mention]}).status_code == 204
    assert mentions(boris)["unread"] == 0


def test_leaving_a_room_takes_its_mentions_out_of_the_list(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    ids = employee_ids(anna)
    room = new_room(anna, "boris", "olga")
    send(anna, room["id"], "@Борис", mention_ids=[ids["boris"]])
    assert mentions(boris)["unread"] == 1
    left = boris.http.delete(f"/api/rooms/{room['id']}/members/{ids['boris']}")
    assert left.status_code == 204
    assert mentions(boris) == {"unread": 0, "mentions": []}


def test_bad_mentions_are_refused_with_a_reason(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    ids = employee_ids(anna)
    room = new_room(anna, "boris")
    unknown = anna.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "@кто", "mention_ids": [999_999]}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "mention_unknown"
    in_reply = anna.http.post(
        f"/api/requests/{request_id}/messages",
        json={"body": "@Борис", "mention_ids": [ids["boris"]]},
    )
    assert in_reply.status_code == 422 and in_reply.json()["code"] == "mention_in_reply"
    too_many = anna.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "@", "mention_ids": list(range(1, 30))}
    )
    assert too_many.status_code == 422
    # Naming oneself is no mention, and no mistake either.
    mine = send(anna, room["id"], "@Анна", mention_ids=[ids["anna"]])
    assert "mentions" not in mine["meta"] and mentions(anna)["unread"] == 0
