"""Internal notes in a request: for the employees who handle it, never for the client."""

from __future__ import annotations

import uuid

from tests.api.test_requests import queue_ids, taken
from tests.harness import LiveServer

NOTE = "Клиент грубит, вернуть деньги только после проверки"


def history(session: object, request_id: int) -> list[dict]:
    response = session.http.get(f"/api/requests/{request_id}/messages")  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_note_reaches_employees_and_never_the_client(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    with visitor.socket() as widget, anna.socket() as workspace:
        before_note = widget.ready["last_event_id"]
        written = anna.http.post(f"/api/requests/{request_id}/notes", json={"body": NOTE})
        assert written.status_code == 201, written.text
        note = written.json()
        assert note["kind"] == "note" and note["body"] == NOTE
        assert note["author"]["id"] == anna.me["id"]
        created = workspace.receive_until(
            lambda f: f.get("type") == "request.message" and f["message"]["id"] == note["id"]
        )
        assert created["message"]["kind"] == "note"

        # A reply right after it reaches the client; the note before it never did.
        anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Проверяем"})
        widget.receive_until(
            lambda f: f.get("type") == "message.created" and f["message"]["body"] == "Проверяем"
        )
        assert NOTE not in str(widget.seen)

    # Nor in the client's history, now or after a reload: a socket resuming from before the
    # note replays the reply after it, and not the note.
    assert NOTE not in str(visitor.conversation())
    with visitor.socket(last_event_id=before_note) as resumed:
        # What was missed is replayed before "ready", so it is all in ``seen`` by now.
        replayed = [f["message"]["body"] for f in resumed.seen if f["type"] == "message.created"]
        assert "Проверяем" in replayed
        assert NOTE not in str(resumed.seen)
    assert [m["kind"] for m in history(anna, request_id)].count("note") == 1


def test_a_notes_file_stays_with_the_employees(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    uploaded = anna.http.post(
        "/api/files", files={"file": ("проверка.txt", b"internal", "text/plain")}
    ).json()
    note = anna.http.post(
        f"/api/requests/{request_id}/notes",
        json={"body": "Скан проверки", "attachment_ids": [uploaded["id"]]},
    )
    assert note.status_code == 201, note.text
    assert anna.http.get(uploaded["url"]).content == b"internal"
    refused = visitor.http.get(f"/api/widget/files/{uploaded['id']}")
    assert refused.status_code == 404 and refused.json()["code"] == "file_not_found"


def test_a_note_stays_with_the_request_through_a_transfer(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    anna.http.post(f"/api/requests/{request_id}/notes", json={"body": NOTE})
    target = queue_ids(server)["Technical support"]
    moved = anna.http.post(f"/api/requests/{request_id}/transfer-queue", json={"queue_id": target})
    assert moved.status_code == 204
    olga = server.login("olga")
    assert olga.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    notes = [m for m in history(olga, request_id) if m["kind"] == "note"]
    assert [(n["body"], n["author"]["name"]) for n in notes] == [(NOTE, anna.me["name"])]
    # Hers to write now, no longer Anna's.
    assert (
        olga.http.post(f"/api/requests/{request_id}/notes", json={"body": "ок"}).status_code == 201
    )
    gone = anna.http.post(f"/api/requests/{request_id}/notes", json={"body": "ещё"})
    assert gone.status_code == 404


def test_only_the_assignee_writes_notes(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    boris = server.login("boris")  # serves Sales, not the assignee: not his request any more
    refused = boris.http.post(f"/api/requests/{request_id}/notes", json={"body": "x"})
    assert refused.status_code == 404, refused.text
    emma = server.login("emma")  # does not serve Sales
    assert (
        emma.http.post(f"/api/requests/{request_id}/notes", json={"body": "x"}).status_code == 404
    )
    assert (
        visitor.http.post(f"/api/requests/{request_id}/notes", json={"body": "x"}).status_code
        == 401
    )
    empty = anna.http.post(f"/api/requests/{request_id}/notes", json={"body": "  "})
    assert empty.status_code == 422 and empty.json()["code"] == "message_empty"
    assert [m for m in history(anna, request_id) if m["kind"] == "note"] == []


def test_a_retried_note_is_one_note(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    key = str(uuid.uuid4())
    first = anna.http.post(
        f"/api/requests/{request_id}/notes", json={"body": NOTE, "client_message_id": key}
    )
    again = anna.http.post(
        f"/api/requests/{request_id}/notes", json={"body": NOTE, "client_message_id": key}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert [m["kind"] for m in history(anna, request_id)].count("note") == 1
