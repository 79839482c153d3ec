from __future__ import annotations

from tests.api.test_requests import queue_ids, taken
from tests.harness import LiveServer
from tests.widget import visit


def test_new_request_reaches_the_queues_servers_only(server: LiveServer) -> None:
    boris, emma = server.login("boris"), server.login("emma")
    visitor = visit(server)
    with boris.socket() as boris_tab, emma.socket() as emma_tab:
        visitor.pick(queue_ids(server)["Sales"])
        visitor.send("Хочу купить")
        card = boris_tab.event("request.updated")["request"]
        assert card["status"] == "waiting" and card["queue"]["name"] == "Sales"
        emma_tab.assert_silent("request.updated")


def test_taken_request_leaves_the_other_queues(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    visitor = visit(server)
    visitor.pick(queue_ids(server)["Sales"])
    visitor.send("Хочу купить")
    request_id = visitor.conversation()["request"]["id"]
    with boris.socket() as boris_tab:
        anna.http.post(f"/api/requests/{request_id}/accept")
        assert boris_tab.event("request.removed")["request_id"] == request_id


def test_visitor_gets_the_reply_live_and_no_internal_events(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    with visitor.socket() as widget:
        anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Здравствуйте!"})
        message = widget.event("message.created")["message"]
        assert message["body"] == "Здравствуйте!" and message["author"]["id"] is None
        anna.http.post(f"/api/requests/{request_id}/return")
        state = widget.event("request.state")["request"]
        assert state["status"] == "waiting"
        # Transitions are recorded for employees, not shown to the client.
        assert all(f.get("type") != "request.updated" for f in widget.seen)
        assert all(
            f["message"]["kind"] == "text" or f["message"]["meta"].get("client_visible")
            for f in widget.seen
            if f.get("type") == "message.created"
        )


def test_visitor_resumes_after_reconnect(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    with visitor.socket() as widget:
        last_id = widget.ready["last_event_id"]
    anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Вы тут?"})
    with visitor.socket(last_event_id=last_id) as widget:
        bodies = [
            f["message"]["body"]
            for f in widget.seen
            if f.get("type") == "message.created" and f["id"] > last_id
        ]
        assert bodies == ["Вы тут?"]


def test_employee_sees_client_messages_live(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    with anna.socket() as tab:
        visitor.send("Где заказ?")
        event = tab.event("request.message")
        assert event["request_id"] == request_id and event["message"]["body"] == "Где заказ?"


def test_visitor_socket_with_forged_token_is_refused(server: LiveServer) -> None:
    from websockets.sync.client import connect
    from websockets.typing import Subprotocol

    offered = [Subprotocol("imp.visitor"), Subprotocol("forged.token")]
    with connect(f"{server.ws_url}/widget", subprotocols=offered, open_timeout=5) as ws:
        assert "not_authenticated" in ws.recv(timeout=5)


def test_restart_with_connected_client_and_employee_loses_nothing(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    with visitor.socket() as widget, anna.socket() as tab:
        widget_last, tab_last = widget.ready["last_event_id"], tab.ready["last_event_id"]
    server.stop()
    restarted = LiveServer(server.settings, server.port).start()
    try:
        # Both sides write while the other is still reconnecting.
        employee = restarted.client()
        employee.cookies.update(anna.http.cookies)
        employee.headers["X-CSRF-Token"] = anna.http.headers["X-CSRF-Token"]
        anna.http = employee
        visitor.http = restarted.client()
        visitor.http.headers["Authorization"] = f"Bearer {visitor.token}"
        visitor.server = restarted
        anna.server = restarted
        assert (
            anna.http.post(
                f"/api/requests/{request_id}/messages", json={"body": "После перезапуска"}
            ).status_code
            == 201
        )
        assert visitor.send("Я тоже тут").status_code == 201
        with (
            visitor.socket(last_event_id=widget_last) as widget,
            anna.socket(last_event_id=tab_last) as tab,
        ):
            to_client = [
                f["message"]["body"]
                for f in widget.seen
                if f.get("type") == "message.created" and f["id"] > widget_last
            ]
            to_employee = [
                f["message"]["body"]
                for f in tab.seen
                if f.get("type") == "request.message" and f["id"] > tab_last
            ]
            assert "После перезапуска" in to_client and "Я тоже тут" in to_client
            assert "Я тоже тут" in to_employee
    finally:
        restarted.stop()


def test_a_client_message_reaches_who_sees_the_request_with_its_new_card(
    server: LiveServer,
) -> None:
    """Waiting: the queue's servers who have not declined it; taken: its assignee. Each gets
    the message and the card as the request's own page shows it, with the new preview and
    the wait for a reply."""
    anna, boris = server.login("anna"), server.login("boris")
    visitor = visit(server)
    visitor.pick(queue_ids(server)["Sales"])
    visitor.send("Добрый день")
    request_id = visitor.conversation()["request"]["id"]
    assert boris.http.post(f"/api/requests/{request_id}/decline").status_code == 204

    def as_page_shows(card: dict) -> dict:
        detail = anna.http.get(f"/api/requests/{request_id}").json()
        shown = {k: v for k, v in detail.items() if k not in ("history", "unread", "tags")}
        assert {k: v for k, v in card.items() if k not in ("unread", "tags")} == shown
        return card

    with anna.socket() as anna_tab, boris.socket() as boris_tab, visitor.socket() as widget:
        visitor.send("Есть вопрос по оплате")
        message = anna_tab.event("request.message")
        assert (message["request_id"], message["message"]["body"]) == (
            request_id,
            "Есть вопрос по оплате",
        )
        card = as_page_shows(anna_tab.event("request.updated")["request"])
        assert card["status"] == "waiting" and card["last_message"]["body"] == (
            "Есть вопрос по оплате"
        )
        assert card["awaiting_reply_since"] is not None and card["tags"] is None
        assert widget.event("message.created")["message"]["body"] == "Есть вопрос по оплате"
        boris_tab.assert_silent("request.message")

        anna.http.post(f"/api/requests/{request_id}/accept")
        anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Слушаю вас"})
        anna_tab.receive_until(
            lambda f: f.get("type") == "request.message" and f["message"]["body"] == "Слушаю вас"
        )
        # Answered: nobody owes the client a reply until they write again.
        assert anna.http.get(f"/api/requests/{request_id}").json()["awaiting_reply_since"] is None
        visitor.send("Оплата не проходит")
        assert anna_tab.event("request.message")["message"]["body"] == "Оплата не проходит"
        card = as_page_shows(anna_tab.event("request.updated")["request"])
        assert card["status"] == "assigned" and card["assignee"]["id"] == anna.me["id"]
        assert card["last_message"]["body"] == "Оплата не проходит"
        assert card["awaiting_reply_since"] is not None
        boris_tab.assert_silent("request.updated")
