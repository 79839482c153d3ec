"""Search (S-1) over requests: open and closed, by client name, contact and message text, and
only within the queues the searcher serves."""

from __future__ import annotations

from typing import Any

from tests.harness import LiveServer, Session
from tests.widget import demo_site, visit

QUESTION = "Где мой заказ 4471? Жду уже неделю"


def queue_named(server: LiveServer, served_by_all_of: set[str]) -> dict[str, Any]:
    """A demo queue served by every one of the given employees (names of queues may change with
    the demo's language; who serves what is what these tests rely on)."""
    admin = server.login("admin")
    serving = {
        e["login"]: set(e["queue_ids"]) for e in admin.http.get("/api/admin/employees").json()
    }
    wanted = set.intersection(*(serving[login] for login in served_by_all_of))
    return next(q for q in demo_site(server)["queues"] if q["id"] in wanted)


def handled_request(server: LiveServer, anna: Session, queue_id: int) -> tuple[int, int]:
    """A request in ``queue_id`` that Anna took, named and with contacts: (request, client)."""
    visitor = visit(server)
    assert visitor.pick(queue_id).status_code in (200, 204)
    assert visitor.send(QUESTION).status_code == 201
    request_id = int(visitor.conversation()["request"]["id"])
    card = anna.http.post(f"/api/requests/{request_id}/accept")
    assert card.status_code == 200, card.text
    client_id = int(card.json()["client"]["id"])
    renamed = anna.http.patch(f"/api/clients/{client_id}", json={"display_name": "Пётр Кузнецов"})
    assert renamed.status_code == 200, renamed.text
    saved = anna.http.put(
        f"/api/clients/{client_id}/contacts",
        json={
            "contacts": [
                {"kind": "email", "value": "Petr.K@Example.com"},
                {"kind": "phone", "value": "+7 (900) 123-45-67"},
            ]
        },
    )
    assert saved.status_code == 200, saved.text
    return request_id, client_id


def found(session: Session, query: str) -> list[dict[str, Any]]:
    response = session.http.get("/api/search", params={"q": query})
    assert response.status_code == 200, response.text
    return response.json()["requests"]  # type: ignore[no-any-return]


def test_requests_are_found_by_name_contact_and_text_open_and_closed(server: LiveServer) -> None:
    anna = server.login("anna")
    queue = queue_named(server, {"anna", "boris"})
    request_id, client_id = handled_request(server, anna, queue["id"])

    for query in ("пётр", "КУЗНЕЦОВ", "petr.k@example", "9001234567", "+7 (900) 123", "заказ 4471"):
        hits = found(anna, query)
        assert [h["id"] for h in hits] == [request_id], query
    hit = found(anna, "пётр")[0]
    assert hit["client"] == {
        "id": client_id,
        "name": "Пётр Кузнецов",
        "is_blocked": False,
        "channel": "website",
    }
    assert hit["queue"] == queue["name"]
    assert hit["status"] == "assigned"
    assert hit["assignee"] == "Анна Смирнова"
    assert hit["resource"] == demo_site(server)["name"]
    assert hit["created_at"] and hit["last_activity_at"]
    assert (found(anna, "9001234567")[0]["matched_in"], found(anna, "4471")[0]["matched_in"]) == (
        "contact",
        "message",
    )
    assert "заказ 4471" in found(anna, "4471")[0]["matched"]

    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    for query in ("Пётр", "petr.k@example.com", "неделю"):
        hits = found(anna, query)
        assert [(h["id"], h["status"]) for h in hits] == [(request_id, "closed")], query
    # The closed request can still be read by someone who finds it.
    history = anna.http.get(f"/api/requests/{request_id}/messages")
    assert history.status_code == 200
    assert QUESTION in [m["body"] for m in history.json()]
    # Text from no request finds nothing.
    assert found(anna, "несуществующий текст") == []


def test_search_keeps_to_the_queues_the_employee_serves(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    queue = queue_named(server, {"anna", "boris"})
    request_id, _ = handled_request(server, anna, queue["id"])
    admin = server.login("admin")
    serving = {
        e["login"]: set(e["queue_ids"]) for e in admin.http.get("/api/admin/employees").json()
    }
    outsider = next(login for login in ("emma", "olga") if queue["id"] not in serving[login])
    stranger = server.login(outsider)

    # A colleague serving the queue finds it, reads it, and cannot act on it.
    assert [h["id"] for h in found(boris, "Кузнецов")] == [request_id]
    assert boris.http.get(f"/api/requests/{request_id}").status_code == 200
    assert boris.http.get(f"/api/requests/{request_id}/messages").status_code == 200
    refused = boris.http.post(
        f"/api/requests/{request_id}/messages", json={"body": "Это не моё обращение"}
    )
    assert refused.status_code in (403, 404)
    # Someone who does not serve the queue finds nothing of it, by any way, open or closed.
    for query in ("Кузнецов", "petr.k@example.com", "9001234567", "заказ 4471"):
        assert found(stranger, query) == [], query
    assert stranger.http.get(f"/api/requests/{request_id}").status_code == 404
    assert stranger.http.get(f"/api/requests/{request_id}/messages").status_code == 404
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    assert found(stranger, "Кузнецов") == []
    assert stranger.http.get(f"/api/requests/{request_id}/messages").status_code == 404


def test_search_finds_room_messages_only_in_the_searchers_rooms(server: LiveServer) -> None:
    anna = server.login("anna")
    ids = {e["login"]: e["id"] for e in anna.http.get("/api/employees").json()}
    room = anna.http.post("/api/rooms", json={"name": "Склад", "member_ids": [ids["olga"]]}).json()
    sent = anna.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "Накладная 88412"})
    assert sent.status_code == 201
    assert [m["id"] for m in found_messages(anna, "88412")] == [sent.json()["id"]]
    assert found_messages(server.login("boris"), "88412") == []


def found_messages(session: Session, query: str) -> list[dict[str, Any]]:
    return session.http.get("/api/search", params={"q": query}).json()["messages"]  # type: ignore[no-any-return]
