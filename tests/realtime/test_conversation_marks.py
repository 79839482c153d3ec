"""A conversation that shows the other side is there: the client's typing (and what they type,
where the website allows it) reaches the employee holding the request, and each side sees how
far the other has read."""

from __future__ import annotations

from tests.api.test_requests import queue_ids, taken
from tests.harness import LiveServer
from tests.widget import demo_site, visit


def test_the_assignee_sees_what_the_client_types_and_nobody_else(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    boris = server.login("boris")
    with anna.socket() as anna_tab, boris.socket() as boris_tab, visitor.socket() as widget:
        widget.send({"type": "client.typing", "draft": "Здравствуйте, у меня <b>вопрос</b>"})
        typing = anna_tab.event("request.client_typing")
        assert typing == {
            "type": "request.client_typing",
            "request_id": request_id,
            "typing": True,
            "draft": "Здравствуйте, у меня <b>вопрос</b>",
        }
        widget.send({"type": "client.typing", "draft": ""})
        stopped = anna_tab.event("request.client_typing")
        assert (stopped["typing"], stopped["draft"]) == (False, None)
        boris_tab.assert_silent("request.client_typing")
        # The client's own widget hears nothing of it.
        widget.assert_silent("request.client_typing")

        # A website that keeps drafts private: only that the client is typing.
        admin = server.login("admin")
        site = demo_site(server)
        switched = admin.http.patch(
            f"/api/admin/resources/{site['id']}", json={"typing_preview": False}
        )
        assert switched.status_code == 200 and switched.json()["typing_preview"] is False
        widget.send({"type": "client.typing", "draft": "номер карты 4276…"})
        private = anna_tab.event("request.client_typing")
        assert (private["typing"], private["draft"]) == (True, None)


def test_a_client_whose_request_nobody_holds_tells_nobody(server: LiveServer) -> None:
    boris = server.login("boris")
    visitor = visit(server)
    visitor.pick(queue_ids(server)["Sales"])
    visitor.send("Добрый день")
    with boris.socket() as boris_tab, visitor.socket() as widget:
        widget.send({"type": "client.typing", "draft": "ещё вопрос"})
        boris_tab.assert_silent("request.client_typing")


def test_each_side_sees_how_far_the_other_has_read(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    client_message = visitor.send("Где мой заказ?").json()
    with anna.socket() as anna_tab, visitor.socket() as widget:
        assert visitor.conversation()["team_read_upto"] < client_message["id"]
        anna.http.post(
            f"/api/requests/{request_id}/read", json={"message_id": client_message["id"]}
        )
        assert widget.event("read")["upto"] == client_message["id"]
        assert visitor.conversation()["team_read_upto"] == client_message["id"]

        reply = anna.http.post(
            f"/api/requests/{request_id}/messages", json={"body": "Уже едет"}
        ).json()
        assert anna.http.get(f"/api/requests/{request_id}").json()["client_read_upto"] < reply["id"]
        widget.send({"type": "client.read", "message_id": reply["id"]})
        told = anna_tab.event("request.client_read")
        assert (told["request_id"], told["upto"]) == (request_id, reply["id"])
        assert (
            anna.http.get(f"/api/requests/{request_id}").json()["client_read_upto"] == reply["id"]
        )

        # Never past the newest message, never back.
        widget.send({"type": "client.read", "message_id": reply["id"] + 1000})
        widget.send({"type": "client.read", "message_id": client_message["id"]})
        anna_tab.assert_silent("request.client_read")
        assert (
            anna.http.get(f"/api/requests/{request_id}").json()["client_read_upto"] == reply["id"]
        )
        # The card in the lists carries it too.
        [card] = [c for c in anna.http.get("/api/requests/mine").json() if c["id"] == request_id]
        assert card["client_read_upto"] == reply["id"]


def test_only_the_widget_speaks_for_the_client_and_bad_frames_are_refused(
    server: LiveServer,
) -> None:
    anna, visitor, _ = taken(server, "anna")
    with anna.socket() as anna_tab, visitor.socket() as widget:
        anna_tab.send({"type": "client.typing", "draft": "я клиент"})
        assert anna_tab.event("error")["code"] == "client_socket_only"
        anna_tab.send({"type": "client.read", "message_id": 1})
        assert anna_tab.event("error")["code"] == "client_socket_only"
        widget.send({"type": "client.typing", "draft": 5})
        assert widget.event("error")["detail"] == "client.typing needs the draft as text."
        widget.send({"type": "client.typing", "draft": "x" * 10_001})
        assert widget.event("error")["detail"] == "client.typing needs the draft as text."
        widget.send({"type": "client.read", "message_id": "7"})
        assert widget.event("error")["detail"] == "client.read needs a message_id."
        widget.send({"type": "client.read", "message_id": 0})
        assert widget.event("error")["code"] == "message_not_found"
        anna_tab.assert_silent("request.client_typing")


def test_the_client_sees_the_employee_holding_the_request_type(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    boris = server.login("boris")
    with anna.socket() as anna_tab, boris.socket() as boris_tab, visitor.socket() as widget:
        anna_tab.send({"type": "request.typing", "request_id": request_id})
        assert widget.event("typing") == {"type": "typing", "name": anna.me["name"]}
        # Only the one holding it: another employee's typing is refused, and not told.
        boris_tab.send({"type": "request.typing", "request_id": request_id})
        assert boris_tab.event("error")["code"] == "request_not_found"
        widget.assert_silent("typing")
        anna_tab.send({"type": "request.typing", "request_id": "1"})
        assert anna_tab.event("error")["detail"] == "request.typing needs a request_id."
        widget.send({"type": "request.typing", "request_id": request_id})
        assert widget.event("error")["code"] == "typing_employees_only"
