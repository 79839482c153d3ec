"""Unread counters count what others wrote, not the system lines of a request's history."""

from __future__ import annotations

from tests.harness import LiveServer
from tests.widget import demo_site, visit


def test_requests_unread_counts_only_the_clients_messages(server: LiveServer) -> None:
    anna = server.login("anna")
    queue_id = demo_site(server)["queues"][0]["id"]
    visitor = visit(server)
    assert visitor.pick(queue_id).status_code in (200, 204)
    assert visitor.send("Здравствуйте").status_code == 201
    request_id = visitor.conversation()["request"]["id"]
    card = anna.http.post(f"/api/requests/{request_id}/accept").json()

    # The history holds "please wait" and "accepted" lines too; only the client's message counts.
    kinds = [m["kind"] for m in anna.http.get(f"/api/requests/{request_id}/messages").json()]
    assert kinds.count("system") >= 2
    assert card["unread"] == 1
    assert anna.http.get("/api/me/summary").json()["requests_unread"] == 1

    newest = anna.http.get(f"/api/requests/{request_id}/messages").json()[-1]["id"]
    assert (
        anna.http.post(f"/api/requests/{request_id}/read", json={"message_id": newest}).status_code
        == 204
    )
    assert anna.http.get("/api/me/summary").json()["requests_unread"] == 0
    # Her own reply is nothing to read; the client's next two messages are.
    anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Слушаю вас"})
    visitor.send("У меня вопрос")
    visitor.send("про доставку")
    assert anna.http.get("/api/me/summary").json()["requests_unread"] == 2
    mine = anna.http.get("/api/requests/mine").json()
    assert [r["unread"] for r in mine if r["id"] == request_id] == [2]
