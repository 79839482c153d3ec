from __future__ import annotations

import json

from tests.api.test_rooms import employee_ids, new_room, send
from tests.harness import LiveServer


def test_new_room_appears_for_every_member_at_once(server: LiveServer) -> None:
    anna, boris, emma = server.login("anna"), server.login("boris"), server.login("emma")
    with boris.socket() as boris_tab, emma.socket() as emma_tab:
        room = new_room(anna, "boris", name="Live")
        event = boris_tab.event("room.created")
        assert event["room"]["id"] == room["id"] and event["room"]["name"] == "Live"
        assert {m["login"] for m in event["room"]["members"]} == {"anna", "boris"}
        emma_tab.assert_silent("room.created")


def test_added_members_get_the_room_and_the_others_see_them_join(server: LiveServer) -> None:
    anna, boris, olga = server.login("anna"), server.login("boris"), server.login("olga")
    room = new_room(anna, "boris")
    with boris.socket() as boris_tab, olga.socket() as olga_tab:
        anna.http.post(f"/api/rooms/{room['id']}/members", json={"employee_ids": [olga.me["id"]]})
        created = olga_tab.event("room.created")
        assert created["room"]["id"] == room["id"]
        updated = boris_tab.event("room.updated")
        assert {m["login"] for m in updated["room"]["members"]} == {"anna", "boris", "olga"}
        boris_tab.assert_silent("room.created")


def test_messages_reach_all_members_live_in_order(server: LiveServer) -> None:
    anna, boris, olga = server.login("anna"), server.login("boris"), server.login("olga")
    room = new_room(anna, "boris", "olga")
    with boris.socket() as boris_tab, olga.socket() as olga_tab:
        for n in range(3):
            send(anna, room["id"], f"hello {n}")
        for tab in (boris_tab, olga_tab):
            bodies = [tab.event("message.created")["message"]["body"] for _ in range(3)]
            assert bodies == ["hello 0", "hello 1", "hello 2"]


def test_a_message_arrives_with_its_id_whatever_its_text_holds(server: LiveServer) -> None:
    # Events announcing a message are rendered before the message has its id, with a stand-in
    # id the statement that stores them replaces (outbox.ID_PLACEHOLDER); a text holding that
    # stand-in, quoted or bare, must arrive as written, live and on resume.
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    bodies = ['"id":-9007199254740975', "-9007199254740975", "plain words"]
    with boris.socket() as boris_tab:
        sent = [send(anna, room["id"], body) for body in bodies]
        live = [boris_tab.event("message.created")["message"] for _ in bodies]
    assert [(m["id"], m["body"]) for m in live] == [(m["id"], m["body"]) for m in sent]
    assert [m["body"] for m in sent] == bodies
    with boris.socket(last_event_id=0) as resumed:
        replayed = [
            f["message"]
            for f in resumed.seen
            if f["type"] == "message.created" and f["message"]["room_id"] == room["id"]
        ]
    assert [(m["id"], m["body"]) for m in replayed] == [(m["id"], m["body"]) for m in sent]


def test_removed_member_gets_room_removed_and_nothing_more(server: LiveServer) -> None:
    anna, olga = server.login("anna"), server.login("olga")
    ids = employee_ids(anna)
    room = new_room(anna, "boris", "olga")
    with olga.socket() as olga_tab:
        anna.http.delete(f"/api/rooms/{room['id']}/members/{ids['olga']}")
        assert olga_tab.event("room.removed")["room_id"] == room["id"]
        message = send(anna, room["id"], "secret after removal")
        anna.http.patch(f"/api/rooms/{room['id']}", json={"name": "Without Olga"})
        server.login("boris").http.post(
            f"/api/rooms/{room['id']}/read", json={"message_id": message["id"]}
        )
        # Nothing about the room any more: no messages, no renames, no read marks.
        olga_tab.assert_silent("message.created", wait=1.0)
        assert [f["type"] for f in olga_tab.seen if f["type"] != "ping"][-1] == "room.removed"
        olga_tab.send({"type": "typing", "room_id": room["id"]})
        assert olga_tab.event("error")["detail"] == "Room not found."
    # Nor on resume: what happened after her removal was never hers.
    with olga.socket(last_event_id=0) as olga_again:
        replayed = json.dumps(olga_again.seen, ensure_ascii=False)
        assert "room.removed" in replayed
        assert "secret after removal" not in replayed and "Without Olga" not in replayed


def test_typing_reaches_the_other_members_only(server: LiveServer) -> None:
    anna, boris, emma = server.login("anna"), server.login("boris"), server.login("emma")
    room = new_room(anna, "boris")
    with anna.socket() as anna_tab, boris.socket() as boris_tab, emma.socket() as emma_tab:
        anna_tab.send({"type": "typing", "room_id": room["id"]})
        typing = boris_tab.event("typing")
        assert typing == {
            "type": "typing",
            "room_id": room["id"],
            "employee_id": anna.me["id"],
            "name": "Анна Смирнова",
        }
        anna_tab.assert_silent("typing")
        emma_tab.assert_silent("typing")
        # Not a member: refused, nobody told.
        emma_tab.send({"type": "typing", "room_id": room["id"]})
        assert emma_tab.event("error")["detail"] == "Room not found."
        boris_tab.assert_silent("typing")


def test_missed_messages_arrive_after_reconnect(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    with boris.socket() as tab:
        last_id = tab.ready["last_event_id"]
    sent = [send(anna, room["id"], f"while away {n}")["id"] for n in range(3)]
    with boris.socket(last_event_id=last_id) as tab:
        replayed = [
            f["message"]["id"]
            for f in tab.seen
            if f.get("type") == "message.created" and f["id"] > last_id
        ]
        assert replayed == sent


def test_rename_and_read_marks_are_broadcast(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    message = send(anna, room["id"], "read me")
    with anna.socket() as anna_tab:
        boris.http.patch(f"/api/rooms/{room['id']}", json={"name": "Renamed"})
        assert anna_tab.event("room.updated")["room"]["name"] == "Renamed"
        boris.http.post(f"/api/rooms/{room['id']}/read", json={"message_id": message["id"]})
        read = anna_tab.event("room.read")
        assert (read["employee_id"], read["message_id"]) == (boris.me["id"], message["id"])


def test_retried_send_is_announced_once(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    with boris.socket() as boris_tab:
        first = send(anna, room["id"], "once", client_message_id="retry-1")
        again = send(anna, room["id"], "once", client_message_id="retry-1")
        assert first["id"] == again["id"]
        assert boris_tab.event("message.created")["message"]["id"] == first["id"]
        boris_tab.assert_silent("message.created", wait=1.0)


def test_edits_and_deletions_are_broadcast(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    message = send(anna, room["id"], "draft")
    url = f"/api/rooms/{room['id']}/messages/{message['id']}"
    with boris.socket() as boris_tab:
        anna.http.patch(url, json={"body": "final"})
        updated = boris_tab.event("message.updated")
        assert updated["message"]["body"] == "final" and updated["message"]["edited_at"]
        anna.http.delete(url)
        deleted = boris_tab.event("message.deleted")
        assert (deleted["room_id"], deleted["message_id"]) == (room["id"], message["id"])
        assert deleted["message"]["deleted"] is True and deleted["message"]["body"] == ""
