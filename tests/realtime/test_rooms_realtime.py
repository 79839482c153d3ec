from __future__ import annotations

from tests.api.test_rooms import employee_ids, new_room, send
from tests.harness import LiveServer


def test_new_room_appears_for_every_member_at_once(server: LiveServer) -> None:
    anna, boris, emma = server.login("anna"), server.login("boris"), server.login("emma")
    with boris.socket() as boris_tab, emma.socket() as emma_tab:
        room = new_room(anna, "boris", name="Live")
        event = boris_tab.event("room.updated")
        assert event["room"]["id"] == room["id"] and event["room"]["name"] == "Live"
        emma_tab.assert_silent("room.updated")


def test_messages_reach_all_members_live_in_order(server: LiveServer) -> None:
    anna, boris, olga = server.login("anna"), server.login("boris"), server.login("olga")
    room = new_room(anna, "boris", "olga")
    with boris.socket() as boris_tab, olga.socket() as olga_tab:
        for n in range(3):
            send(anna, room["id"], f"hello {n}")
        for tab in (boris_tab, olga_tab):
            bodies = [tab.event("message.created")["message"]["body"] for _ in range(3)]
            assert bodies == ["hello 0", "hello 1", "hello 2"]


def test_removed_member_gets_room_removed_and_nothing_more(server: LiveServer) -> None:
    anna, olga = server.login("anna"), server.login("olga")
    ids = employee_ids(anna)
    room = new_room(anna, "boris", "olga")
    with olga.socket() as olga_tab:
        anna.http.delete(f"/api/rooms/{room['id']}/members/{ids['olga']}")
        assert olga_tab.event("room.removed")["room_id"] == room["id"]
        send(anna, room["id"], "secret after removal")
        olga_tab.assert_silent("message.created", wait=1.0)


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
