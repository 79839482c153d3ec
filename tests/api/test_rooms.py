from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from impserver.demo import seed_demo
from impserver.domains.clients.models import Client
from impserver.domains.requests.models import STATUS_ASSIGNED, ClientRequest
from impserver.domains.resources.models import Queue
from impserver.domains.rooms.messaging import append_message
from impserver.domains.rooms.models import ROOM_REQUEST, Room
from tests.harness import LiveServer, Session, free_port
from tests.pictures import picture


def employee_ids(session: Session) -> dict[str, int]:
    return {e["login"]: e["id"] for e in session.http.get("/api/employees").json()}


def new_room(owner: Session, *logins: str, name: str = "") -> dict:
    ids = employee_ids(owner)
    response = owner.http.post(
        "/api/rooms", json={"name": name, "member_ids": [ids[login] for login in logins]}
    )
    assert response.status_code == 201, response.text
    return response.json()


def send(session: Session, room_id: int, body: str, **extra: object) -> dict:
    response = session.http.post(f"/api/rooms/{room_id}/messages", json={"body": body, **extra})
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_create_room_with_members(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris", "olga", name="Delivery")
    assert room["name"] == "Delivery" and room["kind"] == "team"
    assert {m["login"] for m in room["members"]} == {"anna", "boris", "olga"}
    assert room["creator_id"] == anna.me["id"]
    boris_rooms = server.login("boris").http.get("/api/rooms").json()
    assert "Delivery" in [r["name"] for r in boris_rooms]
    assert "Delivery" not in [r["name"] for r in server.login("emma").http.get("/api/rooms").json()]


def test_room_without_name_is_named_after_its_members(server: LiveServer) -> None:
    room = new_room(server.login("anna"), "emma")
    assert room["name"] == "Emma Wilson, Анна Смирнова"


def test_room_needs_a_colleague_and_real_people(server: LiveServer) -> None:
    anna = server.login("anna")
    alone = anna.http.post("/api/rooms", json={"name": "Me", "member_ids": [anna.me["id"]]})
    assert alone.status_code == 422
    ghost = anna.http.post("/api/rooms", json={"name": "X", "member_ids": [424242]})
    assert ghost.status_code == 404


def test_messages_in_order_with_author_and_pages(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    for n in range(7):
        send(anna if n % 2 == 0 else boris, room["id"], f"message {n}")
    page = boris.http.get(f"/api/rooms/{room['id']}/messages", params={"limit": 3}).json()
    assert [m["body"] for m in page] == ["message 4", "message 5", "message 6"]
    assert page[0]["author"] == {
        "kind": "employee",
        "id": anna.me["id"],
        "name": "Анна Смирнова",
        "avatar_url": None,
    }
    older = boris.http.get(
        f"/api/rooms/{room['id']}/messages", params={"limit": 3, "before_id": page[0]["id"]}
    ).json()
    assert [m["body"] for m in older] == ["message 1", "message 2", "message 3"]
    assert (
        boris.http.get(f"/api/rooms/{room['id']}/messages", params={"limit": 500}).status_code
        == 422
    )


def test_a_sent_message_reads_back_as_it_was_answered(server: LiveServer) -> None:
    # The send path writes its rows with statements of its own; the history reads them through
    # the models: the message, its time and the room's and author's marks must agree.
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    sent = send(anna, room["id"], "  as it was  ", client_message_id=str(uuid.uuid4()))
    assert sent["body"] == "as it was"
    (stored,) = boris.http.get(f"/api/rooms/{room['id']}/messages").json()
    assert stored == sent
    listed = {r["id"]: r for r in boris.http.get("/api/rooms").json()}[room["id"]]
    assert listed["last_message"]["id"] == sent["id"]
    assert listed["unread"] == 1
    assert {r["id"]: r for r in anna.http.get("/api/rooms").json()}[room["id"]]["unread"] == 0


def test_retried_send_is_one_message(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    key = str(uuid.uuid4())
    first = anna.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "once", "client_message_id": key}
    )
    again = anna.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "once", "client_message_id": key}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert len(anna.http.get(f"/api/rooms/{room['id']}/messages").json()) == 1


def test_html_is_kept_as_text(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    body = '<img src=x onerror="alert(1)"><b>hi</b>'
    assert send(anna, room["id"], body)["body"] == body


def test_empty_and_oversized_messages_are_refused(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    empty = anna.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "   "})
    assert empty.status_code == 422 and empty.json()["detail"] == "The message is empty."
    huge = anna.http.post(f"/api/rooms/{room['id']}/messages", json={"body": "x" * 10_001})
    assert huge.status_code == 422


def test_non_member_cannot_read_post_or_rename(server: LiveServer) -> None:
    anna, emma = server.login("anna"), server.login("emma")
    room = new_room(anna, "boris")
    base = f"/api/rooms/{room['id']}"
    assert emma.http.get(base).status_code == 404
    assert emma.http.get(f"{base}/messages").status_code == 404
    assert emma.http.post(f"{base}/messages", json={"body": "hi"}).status_code == 404
    assert emma.http.patch(base, json={"name": "Mine"}).status_code == 404
    assert (
        emma.http.post(f"{base}/members", json={"employee_ids": [emma.me["id"]]}).status_code == 404
    )


def test_add_leave_and_remove_members(server: LiveServer) -> None:
    anna, boris, olga = server.login("anna"), server.login("boris"), server.login("olga")
    ids = employee_ids(anna)
    room = new_room(anna, "boris")
    base = f"/api/rooms/{room['id']}"
    added = boris.http.post(f"{base}/members", json={"employee_ids": [ids["olga"], ids["emma"]]})
    assert {m["login"] for m in added.json()["members"]} == {"anna", "boris", "olga", "emma"}
    # Only the creator removes others.
    assert boris.http.delete(f"{base}/members/{ids['olga']}").status_code == 403
    assert anna.http.delete(f"{base}/members/{ids['olga']}").status_code == 204
    assert olga.http.get(f"{base}/messages").status_code == 404
    assert olga.http.post(f"{base}/messages", json={"body": "still here?"}).status_code == 404
    # Anyone may leave.
    assert boris.http.delete(f"{base}/members/{ids['boris']}").status_code == 204
    assert boris.http.get(base).status_code == 404
    members = {m["login"] for m in anna.http.get(base).json()["members"]}
    assert members == {"anna", "emma"}


def test_creator_leaving_hands_the_room_over(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris", "olga")
    anna.http.delete(f"/api/rooms/{room['id']}/members/{anna.me['id']}")
    assert boris.http.get(f"/api/rooms/{room['id']}").json()["creator_id"] == boris.me["id"]


def test_rename_with_validation(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    renamed = boris.http.patch(f"/api/rooms/{room['id']}", json={"name": "  Night shift "})
    assert renamed.json()["name"] == "Night shift"
    assert anna.http.get(f"/api/rooms/{room['id']}").json()["name"] == "Night shift"
    assert boris.http.patch(f"/api/rooms/{room['id']}", json={"name": ""}).status_code == 422
    assert boris.http.patch(f"/api/rooms/{room['id']}", json={"name": "x" * 201}).status_code == 422


def test_direct_room_is_reused(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    first = anna.http.post("/api/rooms/direct", json={"employee_id": boris.me["id"]}).json()
    second = boris.http.post("/api/rooms/direct", json={"employee_id": anna.me["id"]}).json()
    assert first["id"] == second["id"] and first["kind"] == "direct"
    assert (
        anna.http.post("/api/rooms/direct", json={"employee_id": anna.me["id"]}).status_code == 422
    )


def test_edit_and_delete_by_author_only(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    message = send(anna, room["id"], "typo hre")
    url = f"/api/rooms/{room['id']}/messages/{message['id']}"
    assert boris.http.patch(url, json={"body": "hijack"}).status_code == 403
    assert boris.http.delete(url).status_code == 403
    edited = anna.http.patch(url, json={"body": "typo here"}).json()
    assert edited["body"] == "typo here" and edited["edited_at"]
    assert anna.http.delete(url).status_code == 204
    (gone,) = boris.http.get(f"/api/rooms/{room['id']}/messages").json()
    assert gone["deleted"] is True and gone["body"] == ""


def test_read_marks_and_unread_counts(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris", name="Reads")
    send(anna, room["id"], "one")
    last = send(anna, room["id"], "two")
    listed = {r["name"]: r for r in boris.http.get("/api/rooms").json()}
    assert listed["Reads"]["unread"] == 2
    assert listed["Reads"]["last_message"]["body"] == "two"
    assert (
        boris.http.post(
            f"/api/rooms/{room['id']}/read", json={"message_id": last["id"]}
        ).status_code
        == 204
    )
    listed = {r["name"]: r for r in boris.http.get("/api/rooms").json()}
    assert listed["Reads"]["unread"] == 0
    reads = {
        m["login"]: m["last_read_message_id"]
        for m in anna.http.get(f"/api/rooms/{room['id']}/reads").json()
    }
    assert reads["boris"] == last["id"]
    # A read mark never moves back.
    boris.http.post(f"/api/rooms/{room['id']}/read", json={"message_id": 1})
    reads = {
        m["login"]: m["last_read_message_id"]
        for m in anna.http.get(f"/api/rooms/{room['id']}/reads").json()
    }
    assert reads["boris"] == last["id"]


def test_files_attach_download_and_access(server: LiveServer) -> None:
    anna, boris, emma = server.login("anna"), server.login("boris"), server.login("emma")
    room = new_room(anna, "boris")
    png = picture()
    uploaded = anna.http.post(
        "/api/files", files={"file": ("../../etc/passwd.png", png, "image/png")}
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["file_name"] == "passwd.png" and attachment["is_image"]
    # Not yet sent: only the uploader may fetch it.
    assert boris.http.get(attachment["url"]).status_code == 404
    message = send(anna, room["id"], "see picture", attachment_ids=[attachment["id"]])
    assert [a["id"] for a in message["attachments"]] == [attachment["id"]]
    download = boris.http.get(attachment["url"])
    assert download.status_code == 200 and download.content == png
    assert download.headers["content-disposition"].startswith("inline")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert emma.http.get(attachment["url"]).status_code == 404
    # A file cannot be attached twice or by someone else.
    reuse = boris.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "", "attachment_ids": [attachment["id"]]}
    )
    assert reuse.status_code == 422


def test_html_upload_is_downloaded_not_rendered(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    uploaded = anna.http.post(
        "/api/files", files={"file": ("page.html", b"<script>alert(1)</script>", "text/html")}
    ).json()
    send(anna, room["id"], "", attachment_ids=[uploaded["id"]])
    response = anna.http.get(uploaded["url"])
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in response.headers["content-security-policy"]


def test_empty_upload_is_refused(server: LiveServer) -> None:
    response = server.login("anna").http.post(
        "/api/files", files={"file": ("a.txt", b"", "text/plain")}
    )
    assert response.status_code == 422 and response.json()["detail"] == "The file is empty."


@pytest.fixture
def small_upload_server(settings_factory: object) -> Iterator[LiveServer]:
    """A server whose upload limit is 1 KB (SQLite: the limit does not depend on the database)."""
    settings = settings_factory("sqlite", upload_max_bytes=1024)  # type: ignore[operator]
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


def stored_files(server: LiveServer) -> list[str]:
    root = server.settings.resolved_files_path
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_over_the_limit_is_413(small_upload_server: LiveServer) -> None:
    anna = small_upload_server.login("anna")
    response = anna.http.post(
        "/api/files", files={"file": ("big.bin", b"x" * 200_000, "application/octet-stream")}
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The file is too large: the limit is 1 KB.",
        "code": "file_too_large",
        "params": {"limit_bytes": 1024},
    }
    assert stored_files(small_upload_server) == []
    # Just within the limit is fine.
    ok = anna.http.post("/api/files", files={"file": ("ok.txt", b"y" * 1024, "text/plain")})
    assert ok.status_code == 201 and ok.json()["size"] == 1024


def test_upload_over_the_limit_without_a_length_is_413(small_upload_server: LiveServer) -> None:
    anna = small_upload_server.login("anna")
    boundary = "imp-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"x" * 4096
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunked() -> Iterator[bytes]:
        # A generator makes httpx send the body chunked, with no Content-Length to check first.
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = anna.http.post(
        "/api/files",
        content=chunked(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413, response.text
    assert "limit is 1 KB" in response.json()["detail"]
    assert stored_files(small_upload_server) == []


def test_upload_without_a_file_is_refused(server: LiveServer) -> None:
    response = server.login("anna").http.post("/api/files", data={"other": "x"})
    assert response.status_code == 422
    assert response.json()["detail"] == "file: choose a file to upload."


def test_uploaded_file_name_cannot_reach_outside_storage(server: LiveServer) -> None:
    anna = server.login("anna")
    attachment = anna.http.post(
        "/api/files", files={"file": ("..\\..\\windows\\evil.txt", b"data", "text/plain")}
    ).json()
    assert attachment["file_name"] == "evil.txt"
    (path,) = stored_files(server)
    assert "evil" not in path
    assert path.startswith(str(server.settings.resolved_files_path))


def test_deleted_message_takes_its_files_with_it(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    attachment = anna.http.post(
        "/api/files", files={"file": ("notes.txt", b"notes", "text/plain")}
    ).json()
    message = send(anna, room["id"], "notes", attachment_ids=[attachment["id"]])
    assert boris.http.get(attachment["url"]).status_code == 200
    anna.http.delete(f"/api/rooms/{room['id']}/messages/{message['id']}")
    assert boris.http.get(attachment["url"]).status_code == 404


def test_removed_member_loses_the_room_files(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    attachment = anna.http.post(
        "/api/files", files={"file": ("plan.txt", b"plan", "text/plain")}
    ).json()
    send(anna, room["id"], "plan", attachment_ids=[attachment["id"]])
    assert boris.http.get(attachment["url"]).status_code == 200
    anna.http.delete(f"/api/rooms/{room['id']}/members/{boris.me['id']}")
    assert boris.http.get(attachment["url"]).status_code == 404


def request_room_with_file(server: LiveServer, assignee: Session, queue_name: str) -> str:
    """A client request in ``queue_name`` taken by ``assignee``, whose message carries a file.

    Built directly in the database: this checks the rooms side of access, not request handling.
    """
    attachment = assignee.http.post(
        "/api/files", files={"file": ("invoice.txt", b"invoice", "text/plain")}
    ).json()

    async def build() -> None:
        async with server.services.db.transaction() as uow:
            queue = await uow.session.scalar(select(Queue).where(Queue.name == queue_name))
            assert queue is not None
            client = Client(resource_id=queue.resource_id, external_id=uuid.uuid4().hex)
            room = Room(kind=ROOM_REQUEST)
            uow.session.add_all([client, room])
            await uow.session.flush()
            uow.session.add(
                ClientRequest(
                    resource_id=queue.resource_id,
                    client_id=client.id,
                    room_id=room.id,
                    status=STATUS_ASSIGNED,
                    queue_id=queue.id,
                    assignee_id=assignee.me["id"],
                )
            )
            await append_message(
                uow,
                room,
                body="Your invoice",
                author_employee_id=assignee.me["id"],
                attachment_ids=[attachment["id"]],
            )

    server.run(build())
    return str(attachment["url"])


def test_request_room_files_are_for_the_assignee_and_the_queue(server: LiveServer) -> None:
    # Demo access: Sales is served by admin, Anna and Boris; Olga and Emma do not serve it.
    olga = server.login("olga")
    url = request_room_with_file(server, olga, "Sales")
    assert olga.http.get(url).status_code == 200
    assert server.login("boris").http.get(url).status_code == 200
    assert server.login("emma").http.get(url).status_code == 404


def test_unread_rooms_in_the_summary(server: LiveServer) -> None:
    # Demo data leaves Emma outside "Support team", so her counts start at zero.
    anna, boris, emma = server.login("anna"), server.login("boris"), server.login("emma")
    team = new_room(anna, "emma")
    direct = boris.http.post("/api/rooms/direct", json={"employee_id": emma.me["id"]}).json()
    send(emma, team["id"], "my own messages do not count")
    send(anna, team["id"], "one")
    send(anna, team["id"], "two")
    last = send(boris, direct["id"], "three")
    assert emma.http.get("/api/me/summary").json()["rooms_unread"] == 3
    emma.http.post(f"/api/rooms/{direct['id']}/read", json={"message_id": last["id"]})
    assert emma.http.get("/api/me/summary").json()["rooms_unread"] == 2
    assert {r["id"]: r["unread"] for r in emma.http.get("/api/rooms").json()} == {
        team["id"]: 2,
        direct["id"]: 0,
    }


def test_message_id_of_another_author_is_refused(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    send(anna, room["id"], "mine", client_message_id="shared-key")
    clash = boris.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "his", "client_message_id": "shared-key"}
    )
    assert clash.status_code == 409
    assert [m["body"] for m in anna.http.get(f"/api/rooms/{room['id']}/messages").json()] == [
        "mine"
    ]


def test_last_member_leaving_leaves_an_empty_room(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = new_room(anna, "boris")
    base = f"/api/rooms/{room['id']}"
    assert boris.http.delete(f"{base}/members/{boris.me['id']}").status_code == 204
    assert anna.http.delete(f"{base}/members/{anna.me['id']}").status_code == 204
    assert anna.http.get(base).status_code == 404
    assert room["id"] not in [r["id"] for r in anna.http.get("/api/rooms").json()]


def test_direct_rooms_cannot_be_left_or_grown(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    room = anna.http.post("/api/rooms/direct", json={"employee_id": boris.me["id"]}).json()
    assert room["creator_id"] == anna.me["id"]
    base = f"/api/rooms/{room['id']}"
    assert anna.http.delete(f"{base}/members/{anna.me['id']}").status_code == 422
    olga_id = employee_ids(anna)["olga"]
    assert anna.http.post(f"{base}/members", json={"employee_ids": [olga_id]}).status_code == 422
    assert anna.http.patch(base, json={"name": "Us"}).status_code == 422


def test_search_by_participant_and_text(server: LiveServer) -> None:
    anna = server.login("anna")
    new_room(anna, "emma", name="English desk")
    room = new_room(anna, "olga", name="Olga and me")
    send(anna, room["id"], "Проверь, пожалуйста, Заказ 1234")
    found = anna.http.get("/api/search", params={"q": "wils"}).json()
    assert [r["name"] for r in found["rooms"]] == ["English desk"]
    found = anna.http.get("/api/search", params={"q": "ОЛЬГ"}).json()
    assert {r["name"] for r in found["rooms"]} >= {"Olga and me", "Support team"}
    texts = anna.http.get("/api/search", params={"q": "заказ"}).json()["messages"]
    assert [m["body"] for m in texts] == ["Проверь, пожалуйста, Заказ 1234"]
    # Emma is not in "Olga and me": its messages are not hers to find.
    assert (
        server.login("emma").http.get("/api/search", params={"q": "заказ"}).json()["messages"] == []
    )
    assert anna.http.get("/api/search", params={"q": ""}).status_code == 422


def test_message_search_follows_edits_deletions_and_wildcards(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    kept = send(anna, room["id"], "Скидка 100% на ПОСЫЛКУ")
    gone = send(anna, room["id"], "посылка завтра")
    anna.http.delete(f"/api/rooms/{room['id']}/messages/{gone['id']}")

    def found(q: str) -> list[int]:
        return [m["id"] for m in anna.http.get("/api/search", params={"q": q}).json()["messages"]]

    assert found("посылк") == [kept["id"]]
    # % and _ are text to find, not patterns.
    assert found("100%") == [kept["id"]]
    assert found("1_0") == []
    anna.http.patch(
        f"/api/rooms/{room['id']}/messages/{kept['id']}", json={"body": "Самовывоз бесплатно"}
    )
    assert found("посылк") == []
    assert found("САМОВЫВОЗ") == [kept["id"]]


def test_room_history_records_joins_leaves_removals_and_renames(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    ids = employee_ids(anna)
    room = new_room(anna, "boris", name="Delivery")
    base = f"/api/rooms/{room['id']}"
    with boris.socket() as boris_socket:
        assert anna.http.post(f"{base}/members", json={"employee_ids": [ids["olga"]]}).is_success
        line = boris_socket.receive_until(lambda f: f.get("type") == "message.created")
        assert line["message"]["kind"] == "system"
    anna.http.post(f"{base}/members", json={"employee_ids": [ids["emma"]]})
    anna.http.patch(base, json={"name": "Night shift"})
    anna.http.patch(base, json={"name": "Night shift"})  # unchanged: nothing to record
    assert anna.http.delete(f"{base}/members/{ids['emma']}").status_code == 204
    assert boris.http.delete(f"{base}/members/{ids['boris']}").status_code == 204

    history = anna.http.get(f"{base}/messages").json()
    lines = [dict(m["meta"]) | {"kind": m["kind"], "author": m["author"]["kind"]} for m in history]
    common = {"kind": "system", "author": "system"}
    # A code and names, never a sentence: each reader's workspace words it in their language.
    assert lines == [
        {"transition": "room.added", "actor": "Анна Смирнова", "member": "Ольга Иванова"} | common,
        {"transition": "room.added", "actor": "Анна Смирнова", "member": "Emma Wilson"} | common,
        {
            "transition": "room.renamed",
            "actor": "Анна Смирнова",
            "name": "Night shift",
            "previous": "Delivery",
        }
        | common,
        {"transition": "room.removed", "actor": "Анна Смирнова", "member": "Emma Wilson"} | common,
        {"transition": "room.left", "actor": "Борис Петров"} | common,
    ]
    assert all(m["body"] == "" for m in history)
