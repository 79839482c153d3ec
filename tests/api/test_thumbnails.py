"""Pictures in conversations: a thumbnail made on the server, bounded in size and pixels."""

from __future__ import annotations

import io

from PIL import Image

from impserver.domains.rooms.thumbnails import THUMBNAIL_BOX
from tests.api.test_requests import taken
from tests.api.test_rooms import new_room, send
from tests.harness import LiveServer
from tests.pictures import picture


def test_a_picture_gets_a_thumbnail_that_only_its_readers_may_fetch(server: LiveServer) -> None:
    anna, boris, emma = server.login("anna"), server.login("boris"), server.login("emma")
    room = new_room(anna, "boris")
    photo = picture(2000, 1500, kind="JPEG", noise=True)
    uploaded = anna.http.post("/api/files", files={"file": ("склад.jpg", photo, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["is_image"] and (attachment["width"], attachment["height"]) == (2000, 1500)
    assert attachment["thumbnail_url"] == f"/api/files/{attachment['id']}/thumbnail"
    # Not sent yet: the uploader's alone, like the picture itself.
    assert boris.http.get(attachment["thumbnail_url"]).status_code == 404
    send(anna, room["id"], "вот", attachment_ids=[attachment["id"]])

    thumbnail = boris.http.get(attachment["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/webp"
    assert thumbnail.headers["x-content-type-options"] == "nosniff"
    shown = Image.open(io.BytesIO(thumbnail.content))
    assert shown.format == "WEBP"
    assert shown.size == (THUMBNAIL_BOX[0], THUMBNAIL_BOX[0] * 3 // 4)
    assert len(thumbnail.content) < len(photo) / 10
    assert boris.http.get(attachment["url"]).content == photo
    assert emma.http.get(attachment["thumbnail_url"]).status_code == 404


def test_a_photo_is_turned_upright_as_its_camera_meant(server: LiveServer) -> None:
    anna = server.login("anna")
    image = Image.new("RGB", (300, 200), "navy")
    exif = image.getexif()
    exif[0x0112] = 6  # taken with the phone on its side: show it turned a quarter
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    uploaded = anna.http.post(
        "/api/files", files={"file": ("portrait.jpg", out.getvalue(), "image/jpeg")}
    ).json()
    assert (uploaded["width"], uploaded["height"]) == (200, 300)
    thumbnail = anna.http.get(uploaded["thumbnail_url"])
    assert Image.open(io.BytesIO(thumbnail.content)).size == (200, 300)


def test_a_decompression_bomb_is_refused_with_a_reason(server: LiveServer) -> None:
    anna = server.login("anna")
    # 100 megapixels of one colour: a few hundred kilobytes that would unpack to 300 MB.
    bomb = picture(10_000, 10_000, color="white")
    assert len(bomb) < 1_000_000
    refused = anna.http.post("/api/files", files={"file": ("bomb.png", bomb, "image/png")})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "image_too_large"
    assert "megapixels" in refused.json()["detail"]


def test_a_file_that_only_claims_to_be_a_picture_is_kept_as_a_file(server: LiveServer) -> None:
    anna = server.login("anna")
    fake = b"\x89PNG\r\n\x1a\n" + b"not really a picture"
    uploaded = anna.http.post("/api/files", files={"file": ("fake.png", fake, "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert not attachment["is_image"] and attachment["thumbnail_url"] is None
    assert attachment["content_type"] == "application/octet-stream"
    download = anna.http.get(attachment["url"])
    assert download.content == fake
    assert download.headers["content-disposition"].startswith("attachment")


def test_the_client_sees_thumbnails_of_their_conversation_only(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    mine = visitor.http.post(
        "/api/widget/files", files={"file": ("чек.png", picture(900, 600), "image/png")}
    ).json()
    assert mine["thumbnail_url"]
    own = visitor.http.get(f"/api/widget/files/{mine['id']}/thumbnail")
    assert own.status_code == 200 and own.headers["content-type"] == "image/webp"

    for kind in ("messages", "notes"):
        upload = anna.http.post(
            "/api/files", files={"file": (f"{kind}.png", picture(), "image/png")}
        ).json()
        sent = anna.http.post(
            f"/api/requests/{request_id}/{kind}",
            json={"body": kind, "attachment_ids": [upload["id"]]},
        )
        assert sent.status_code == 201, sent.text
        thumbnail = visitor.http.get(f"/api/widget/files/{upload['id']}/thumbnail")
        # The reply's picture is the client's to see; the note's is not, not even small.
        assert thumbnail.status_code == (200 if kind == "messages" else 404)
