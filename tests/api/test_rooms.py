from __future__ import annotations

import uuid

import pytest

from tests.harness import LiveServer, Session


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
    assert page[0]["author"] == {"kind": "employee", "id": anna.me["id"], "name": "Анна Смирнова"}
    older = boris.http.get(
        f"/api/rooms/{room['id']}/messages", params={"limit": 3, "before_id": page[0]["id"]}
    ).json()
    assert [m["body"] for m in older] == ["message 1", "message 2", "message 3"]
    assert (
        boris.http.get(f"/api/rooms/{room['id']}/messages", params={"limit": 500}).status_code
        == 422
    )


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
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
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


@pytest.mark.parametrize("backend", ["sqlite"])
def test_upload_over_the_limit_is_413(backend: str, settings_factory: object) -> None:
    from impserver.demo import seed_demo
    from tests.harness import free_port

    live = LiveServer(settings_factory(backend, upload_max_bytes=1024), free_port()).start()  # type: ignore[operator]
    try:
        live.run(seed_demo(live.services, site_origin="http://shop.example"))
        anna = live.login("anna")
        response = anna.http.post(
            "/api/files", files={"file": ("big.bin", b"x" * 2048, "application/octet-stream")}
        )
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]
        files_dir = live.settings.resolved_files_path
        assert not any(p.is_file() for p in files_dir.rglob("*")) if files_dir.exists() else True
    finally:
        live.stop()


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
