"""Employees' messages sent over the workspace's socket (``room.send``, ``request.send``): the
HTTP send by another road, answered to the sender with an ``ack`` or an ``error`` naming its
``ref``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from websockets.exceptions import ConnectionClosed

from impserver.core.clock import utcnow
from impserver.core.security import token_digest
from impserver.domains.accounts.auth import SESSION_COOKIE
from impserver.domains.accounts.models import Employee, EmployeeSession
from impserver.realtime.events import employee_key
from tests.api.test_requests import taken
from tests.api.test_rooms import new_room
from tests.harness import LiveServer, Session, Socket
from tests.widget import visit

Frame = dict[str, Any]


def answer_to(tab: Socket, ref: str) -> Frame:
    """The ack or error that answers ``ref`` (events in between are passed over)."""
    return tab.receive_until(lambda f: f.get("type") in ("ack", "error") and f.get("ref") == ref)


def room_send(room_id: int, body: str, ref: str, **fields: Any) -> Frame:
    fields.setdefault("client_message_id", str(uuid.uuid4()))
    return {"type": "room.send", "ref": ref, "room_id": room_id, "body": body, **fields}


def request_send(request_id: int, body: str, ref: str, **fields: Any) -> Frame:
    fields.setdefault("client_message_id", str(uuid.uuid4()))
    return {"type": "request.send", "ref": ref, "request_id": request_id, "body": body, **fields}


def room_history(session: Session, room_id: int) -> list[Frame]:
    response = session.http.get(f"/api/rooms/{room_id}/messages")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_room_message_is_acknowledged_to_its_sender_and_reaches_the_other_members(
    server: LiveServer,
) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    with anna.socket() as anna_tab, boris.socket() as boris_tab:
        anna_tab.send(room_send(room["id"], "over the socket", "r1", client_message_id="s-1"))
        ack = answer_to(anna_tab, "r1")
        assert ack["type"] == "ack" and ack["created"] is True
        message = ack["message"]
        assert (message["room_id"], message["body"]) == (room["id"], "over the socket")
        assert message["client_message_id"] == "s-1"
        assert message["author"]["id"] == anna.me["id"]
        created = boris_tab.event("message.created")
        assert created["message"]["id"] == message["id"]
        # The answer is the sender's alone.
        assert not [f for f in boris_tab.seen if f.get("type") == "ack"]
    # The very message HTTP serves, once.
    assert [m["id"] for m in room_history(boris, room["id"])] == [message["id"]]


def test_a_retried_send_answers_the_first_message_and_makes_no_second(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    with anna.socket() as anna_tab, boris.socket() as boris_tab:
        anna_tab.send(room_send(room["id"], "once", "first", client_message_id="again-1"))
        first = answer_to(anna_tab, "first")
        anna_tab.send(room_send(room["id"], "once", "second", client_message_id="again-1"))
        second = answer_to(anna_tab, "second")
        assert (first["created"], second["created"]) == (True, False)
        assert second["message"]["id"] == first["message"]["id"]
        # The send that went over the socket, retried over HTTP, is the same message too.
        retried = anna.http.post(
            f"/api/rooms/{room['id']}/messages",
            json={"body": "once", "client_message_id": "again-1"},
        )
        assert retried.status_code == 200 and retried.json()["id"] == first["message"]["id"]
        assert boris_tab.event("message.created")["message"]["id"] == first["message"]["id"]
        boris_tab.assert_silent("message.created", wait=1.0)
    assert len(room_history(anna, room["id"])) == 1


def test_a_reply_to_the_client_over_the_socket_reaches_the_widget(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    with visitor.socket() as widget, anna.socket() as workspace:
        workspace.send(request_send(request_id, "Здравствуйте!", "reply-1"))
        ack = answer_to(workspace, "reply-1")
        assert ack["type"] == "ack" and ack["created"] is True
        assert (
            ack["message"]["author"]["kind"] == "employee"
            and ack["message"]["body"] == "Здравствуйте!"
        )
        created = widget.receive_until(
            lambda f: f.get("type") == "message.created" and f["message"]["body"] == "Здравствуйте!"
        )
        assert created["message"]["id"] == ack["message"]["id"]


def test_a_note_over_the_socket_reaches_only_employees(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    note_text = "Проверить оплату до ответа"
    with visitor.socket() as widget, anna.socket() as workspace, anna.socket() as other_tab:
        workspace.send(request_send(request_id, note_text, "note-1", note=True))
        ack = answer_to(workspace, "note-1")
        assert ack["type"] == "ack" and ack["message"]["kind"] == "note"
        seen = other_tab.receive_until(
            lambda f: (
                f.get("type") == "request.message" and f["message"]["id"] == ack["message"]["id"]
            )
        )
        assert seen["message"]["kind"] == "note"
        widget.assert_silent("message.created", wait=1.0)
        assert note_text not in str(widget.seen)
    assert note_text not in str(visitor.conversation())
    notes = [
        m
        for m in anna.http.get(f"/api/requests/{request_id}/messages").json()
        if m["kind"] == "note"
    ]
    assert [n["id"] for n in notes] == [ack["message"]["id"]]


def test_a_room_the_sender_is_not_in_is_refused_with_its_code_and_ref(server: LiveServer) -> None:
    anna, emma = server.login("anna"), server.login("emma")
    room = new_room(anna, "boris")
    with emma.socket() as emma_tab:
        emma_tab.send(room_send(room["id"], "let me in", "outsider"))
        refused = answer_to(emma_tab, "outsider")
        assert refused["type"] == "error"
        assert (refused["code"], refused["command"]) == ("room_not_found", "room.send")
        emma_tab.send(request_send(2**40, "far away", "no-such-request"))
        assert answer_to(emma_tab, "no-such-request")["code"] == "request_not_found"
    assert room_history(anna, room["id"]) == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"client_message_id": None}, id="no client message id"),
        pytest.param({"body": "x" * 10_001}, id="body too long"),
        pytest.param({"attachment_ids": list(range(1, 12))}, id="too many files"),
        pytest.param({"reply_to_id": 0}, id="reply to nothing"),
        pytest.param({"colour": "red"}, id="unknown field"),
        pytest.param({"room_id": "1"}, id="room id as text"),
    ],
)
def test_a_send_outside_the_schema_is_refused(server: LiveServer, change: Frame) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    frame = {**room_send(room["id"], "fine", "bad"), **change}
    frame = {key: value for key, value in frame.items() if value is not None}
    with anna.socket() as anna_tab:
        anna_tab.send(frame)
        refused = answer_to(anna_tab, "bad")
        assert (refused["type"], refused["code"], refused["command"]) == (
            "error",
            "invalid",
            "room.send",
        )
    assert room_history(anna, room["id"]) == []


def test_a_visitors_socket_may_not_send_as_an_employee(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    room = new_room(anna, "boris")
    with visitor.socket() as widget:
        widget.send(room_send(room["id"], "from the widget", "v1"))
        widget.send(request_send(request_id, "from the widget", "v2"))
        for ref in ("v1", "v2"):
            refused = answer_to(widget, ref)
            assert (refused["type"], refused["code"]) == ("error", "send_employees_only")
    assert room_history(anna, room["id"]) == []
    bodies = [m["body"] for m in anna.http.get(f"/api/requests/{request_id}/messages").json()]
    assert "from the widget" not in bodies
    # A visitor without a request of its own is refused the same way.
    with visit(server).socket() as stranger:
        stranger.send(room_send(room["id"], "hello", "v3"))
        assert answer_to(stranger, "v3")["code"] == "send_employees_only"


def test_logging_out_closes_the_socket_and_stores_nothing_sent_on_it(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    with anna.socket() as anna_tab:
        assert anna.http.post("/api/auth/logout").status_code == 204
        answers: list[Frame] = []
        try:
            anna_tab.send(room_send(room["id"], "after logout", "late"))
            while True:
                frame = anna_tab.receive(timeout=5)
                if frame.get("ref") == "late":
                    answers.append(frame)
        except ConnectionClosed:
            pass
        assert {"type": "closed", "reason": "session_revoked"} in anna_tab.seen
        assert all(a["type"] == "error" for a in answers), answers
    assert room_history(boris, room["id"]) == []


def _session_ends(server: LiveServer, session: Session, how: str) -> None:
    """End ``session`` in the database as an expiry, a revocation or a deactivation leaves it,
    without the instruction that closes its sockets: as an instance that missed it sees it once
    its cache has let go of the session."""
    token_hash = token_digest(session.http.cookies[SESSION_COOKIE])
    employee_id = session.me["id"]

    async def end() -> None:
        async with server.services.db.transaction() as uow:
            if how == "expired":
                await uow.session.execute(
                    update(EmployeeSession)
                    .where(EmployeeSession.token_hash == token_hash)
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )
            elif how == "revoked":
                await uow.session.execute(
                    delete(EmployeeSession).where(EmployeeSession.token_hash == token_hash)
                )
            else:
                await uow.session.execute(
                    update(Employee).where(Employee.id == employee_id).values(is_active=False)
                )
        server.services.auth_cache.forget(employee_key(employee_id))

    server.run(end())


@pytest.mark.parametrize("how", ["expired", "revoked", "deactivated"])
def test_a_send_on_a_session_that_ended_since_the_socket_opened_is_refused(
    server: LiveServer, how: str
) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    with anna.socket() as anna_tab:
        anna_tab.send(room_send(room["id"], "while logged in", "before"))
        assert answer_to(anna_tab, "before")["type"] == "ack"
        _session_ends(server, anna, how)
        anna_tab.send(room_send(room["id"], "after the end", "after"))
        refused = answer_to(anna_tab, "after")
        assert (refused["type"], refused["code"]) == ("error", "session_ended")
        # HTTP refuses the same session the same way.
        assert anna.http.get("/api/rooms").status_code == 401
    assert [m["body"] for m in room_history(boris, room["id"])] == ["while logged in"]


def test_an_answer_to_a_send_that_breaks_the_actions_rules_names_the_ref(
    server: LiveServer,
) -> None:
    anna, _, request_id = taken(server, "anna")
    attempts: list[tuple[Callable[[str], Frame], str]] = [
        (lambda ref: request_send(request_id, "   ", ref), "message_empty"),
        (
            lambda ref: request_send(request_id, "hi @boris", ref, mention_ids=[1]),
            "mention_in_reply",
        ),
    ]
    with anna.socket() as workspace:
        for n, (frame, code) in enumerate(attempts):
            workspace.send(frame(f"rule-{n}"))
            refused = answer_to(workspace, f"rule-{n}")
            assert (refused["type"], refused["code"], refused["command"]) == (
                "error",
                code,
                "request.send",
            )
