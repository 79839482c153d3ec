"""Employees' photos: uploaded in the workspace, kept as a small square under a random address,
and shown to clients beside the employee's replies (where the website's chat look allows)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from impserver.demo import seed_demo
from impserver.domains.accounts.avatars import AVATAR_SIDE
from tests.api.test_requests import taken
from tests.harness import LiveServer, Session, free_port
from tests.pictures import picture
from tests.s3_server import S3Server
from tests.widget import demo_site

MB = 1024 * 1024


def upload_avatar(
    employee: Session, body: bytes, name: str = "я.png", kind: str = "image/png"
) -> dict:
    response = employee.http.put("/api/me/avatar", files={"file": (name, body, kind)})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def served_picture(server: LiveServer, url: str) -> Image.Image:
    # Without a session: the widget's visitors load it as anyone would.
    response = server.client().get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    return Image.open(io.BytesIO(response.content))


def test_an_employee_sets_replaces_and_removes_their_photo(server: LiveServer) -> None:
    anna = server.login("anna")
    assert anna.http.get("/api/me").json()["avatar_url"] is None
    # A wide photo: its middle square is kept. Left third red, middle green, right third blue.
    wide = Image.new("RGB", (600, 200), "red")
    wide.paste(Image.new("RGB", (200, 200), "lime"), (200, 0))
    wide.paste(Image.new("RGB", (200, 200), "blue"), (400, 0))
    out = io.BytesIO()
    wide.save(out, "PNG")
    me = upload_avatar(anna, out.getvalue())
    first = me["avatar_url"]
    assert first.startswith("/api/avatars/") and len(first) > len("/api/avatars/") + 30
    assert anna.http.get("/api/me").json()["avatar_url"] == first
    shown = served_picture(server, first)
    assert shown.format == "WEBP" and shown.size == (AVATAR_SIDE, AVATAR_SIDE)
    red, green, blue = shown.convert("RGB").getpixel((AVATAR_SIDE // 2, AVATAR_SIDE // 2))
    assert green > 200 and red < 60 and blue < 60, (red, green, blue)

    # A new photo, a new address; the old one is gone for good.
    replaced = upload_avatar(anna, picture(90, 300, kind="JPEG"), "фото.jpg", "image/jpeg")
    assert replaced["avatar_url"] != first
    assert served_picture(server, replaced["avatar_url"]).size == (AVATAR_SIDE, AVATAR_SIDE)
    gone = server.client().get(first)
    assert gone.status_code == 404 and gone.json()["code"] == "avatar_not_found"
    for kind in ("WEBP", "GIF"):
        assert upload_avatar(anna, picture(40, 40, kind=kind), f"a.{kind.lower()}")["avatar_url"]

    latest = anna.http.get("/api/me").json()["avatar_url"]
    removed = anna.http.delete("/api/me/avatar")
    assert removed.status_code == 200 and removed.json()["avatar_url"] is None
    assert server.client().get(latest).status_code == 404
    assert anna.http.get("/api/me").json()["avatar_url"] is None
    # Every photo made was deleted once replaced or removed.
    root = server.settings.resolved_files_path
    assert not root.exists() or [p for p in root.rglob("*") if p.is_file()] == []
    assert anna.http.delete("/api/me/avatar").json()["avatar_url"] is None


def test_what_is_not_a_picture_is_refused_naming_the_field(server: LiveServer) -> None:
    anna = server.login("anna")
    for name, body, kind in (
        ("photo.png", b"just some words, not a picture", "image/png"),
        ("empty.png", b"", "image/png"),
        ("photo.bmp", picture(20, 20, kind="BMP"), "image/bmp"),
        ("half.png", picture(200, 200, noise=True)[:500], "image/png"),
    ):
        refused = anna.http.put("/api/me/avatar", files={"file": (name, body, kind)})
        assert refused.status_code == 422, (name, refused.text)
        assert refused.json()["code"] == "avatar_not_image"
        assert refused.json()["params"] == {"field": "file"}
        assert refused.json()["detail"].startswith("file: ")
    missing = anna.http.put("/api/me/avatar", files={"other": ("a.png", picture(), "image/png")})
    assert missing.status_code == 422 and missing.json()["code"] == "file_missing"
    assert anna.http.get("/api/me").json()["avatar_url"] is None
    # Only for oneself, and only signed in.
    assert (
        server.client().put("/api/me/avatar", files={"file": ("a.png", picture())}).status_code
        == 401
    )
    assert server.client().get("/api/avatars/2020/01/no-such-photo").status_code == 404


def test_a_photo_over_the_limit_is_refused(server: LiveServer) -> None:
    anna = server.login("anna")
    limit = server.settings.avatar_max_bytes
    assert limit == 5 * MB
    for size in (limit + 1, limit + MB):
        refused = anna.http.put(
            "/api/me/avatar", files={"file": ("big.png", b"x" * size, "image/png")}
        )
        assert refused.status_code == 413, refused.text
        assert refused.json() == {
            "detail": "The file is too large: the limit is 5 MB.",
            "code": "file_too_large",
            "params": {"limit_bytes": limit},
        }
    assert anna.http.get("/api/me").json()["avatar_url"] is None


def test_the_client_sees_the_employees_photo_on_replies_and_nothing_more(
    server: LiveServer,
) -> None:
    anna, visitor, request_id = taken(server, "anna")
    me = upload_avatar(anna, picture(120, 120))
    avatar_url, name = me["avatar_url"], me["name"]
    with visitor.socket() as widget:
        # A plain text reply takes the fast path on PostgreSQL; a reply quoting the client's
        # message takes the full one.
        plain = anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Привет!"})
        assert plain.status_code == 201, plain.text
        assert plain.json()["author"] == {
            "kind": "employee",
            "id": plain.json()["author"]["id"],
            "name": name,
            "avatar_url": avatar_url,
        }
        live = widget.event("message.created")["message"]
        assert live["author"] == {
            "kind": "employee",
            "id": None,
            "name": name,
            "avatar_url": avatar_url,
        }
    history = visitor.conversation()["messages"]
    replies = [m for m in history if m["author"]["kind"] == "employee"]
    assert [m["author"] for m in replies] == [live["author"]]
    clients = [m for m in history if m["author"]["kind"] == "client"]
    assert clients and all(m["author"]["avatar_url"] is None for m in clients)

    # A new photo shows on the next reply at once, and on the earlier ones in the history.
    newer = upload_avatar(anna, picture(64, 64, color="orange"))["avatar_url"]
    quoted = clients[0]["id"]
    with visitor.socket() as widget:
        full = anna.http.post(
            f"/api/requests/{request_id}/messages", json={"body": "Да", "reply_to_id": quoted}
        )
        assert full.status_code == 201, full.text
        assert widget.event("message.created")["message"]["author"]["avatar_url"] == newer
        text = anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Ещё"})
        assert text.status_code == 201
        assert widget.event("message.created")["message"]["author"]["avatar_url"] == newer
    authors = [m["author"] for m in visitor.conversation()["messages"]]
    assert {a["avatar_url"] for a in authors if a["kind"] == "employee"} == {newer}
    # The workspace's history shows it too.
    history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    assert {m["author"]["avatar_url"] for m in history if m["author"]["kind"] == "employee"} == {
        newer
    }


def test_the_websites_look_may_hide_the_employee_on_replies(server: LiveServer) -> None:
    admin = server.login("admin")
    site = demo_site(server)
    path = f"/api/admin/resources/{site['id']}"
    assert site["widget_look"]["show_employee"] is True
    saved = admin.http.patch(path, json={"widget_look": {"show_employee": False}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["widget_look"]["show_employee"] is False
    assert demo_site(server)["widget_look"]["show_employee"] is False
    for value in ("no", "false", 0, None, [True]):
        refused = admin.http.patch(path, json={"widget_look": {"show_employee": value}})
        assert refused.status_code == 422, (value, refused.text)
        assert "show_employee" in refused.json()["detail"]
    assert demo_site(server)["widget_look"]["show_employee"] is False


@pytest.fixture
def s3_server(settings_factory: object, s3: S3Server) -> Iterator[LiveServer]:
    """Files in object storage, downloads answered with redirects to the storage."""
    settings = settings_factory(  # type: ignore[operator]
        "postgres", **s3.settings(s3.new_bucket(), files_download="redirect")
    )
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


def test_photos_in_object_storage_are_served_by_imp_itself(
    s3_server: LiveServer, s3: S3Server
) -> None:
    anna = s3_server.login("anna")
    bucket = s3_server.settings.s3_bucket
    first = upload_avatar(anna, picture(300, 200))["avatar_url"]
    assert s3.keys(bucket) == [first.removeprefix("/api/avatars/")]
    # Streamed rather than redirected: the widget loads pictures from IMP only, and the photo
    # is cached far longer than a storage address lives.
    shown = s3_server.client().get(first, follow_redirects=False)
    assert shown.status_code == 200, shown.text
    assert Image.open(io.BytesIO(shown.content)).size == (AVATAR_SIDE, AVATAR_SIDE)
    assert shown.headers["cache-control"] == "public, max-age=31536000, immutable"
    second = upload_avatar(anna, picture(50, 50))["avatar_url"]
    assert s3.keys(bucket) == [second.removeprefix("/api/avatars/")]
    assert s3_server.client().get(first).status_code == 404
    anna.http.delete("/api/me/avatar")
    assert s3.keys(bucket) == []
