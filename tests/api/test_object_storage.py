"""Files in S3-compatible object storage: what lets several instances share uploads.

Two instances on one PostgreSQL and Redis keep their files in a bucket of a local server that
speaks S3's wire protocol (moto); nothing is written to their local files path.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from impserver.core.config import Settings
from impserver.demo import seed_demo
from tests.api.test_rooms import new_room, send
from tests.harness import (
    SERVER_COMMAND,
    LiveServer,
    PostgresDatabase,
    free_port,
    server_settings,
    settings_environment,
)
from tests.pictures import picture as noisy_picture
from tests.s3_server import S3Server
from tests.widget import visit

MiB = 1024 * 1024


@pytest.fixture
def bucket(s3: S3Server) -> str:
    return s3.new_bucket()


@contextmanager
def instance_pair(
    tmp_path: Path, postgres: PostgresDatabase, **overrides: object
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two instances on one PostgreSQL and Redis, the demo data seeded through the first."""
    settings = server_settings(tmp_path, postgres, **overrides)
    with running(settings) as first, running(settings) as second:
        first.run(seed_demo(first.services, site_origin="http://shop.example", language="en"))
        yield first, second


@contextmanager
def running(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings, free_port()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pair(
    tmp_path: Path, postgres_database: PostgresDatabase, s3: S3Server, bucket: str
) -> Iterator[tuple[LiveServer, LiveServer]]:
    with instance_pair(tmp_path, postgres_database, **s3.settings(bucket)) as servers:
        yield servers


def local_files(server: LiveServer) -> list[Path]:
    root = server.settings.resolved_files_path
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(http: httpx.Client, path: str, name: str, body: bytes, kind: str) -> httpx.Response:
    return http.post(path, files={"file": (name, body, kind)})


def test_a_file_uploaded_through_one_instance_downloads_through_the_other(
    pair: tuple[LiveServer, LiveServer], s3: S3Server, bucket: str
) -> None:
    first, second = pair
    anna, boris = first.login("anna"), second.login("boris")
    room = new_room(anna, "boris")
    picture = noisy_picture(320, 320, noise=True)
    uploaded = upload(anna.http, "/api/files", "фото.png", picture, "image/png")
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    send(anna, room["id"], "вот фото", attachment_ids=[attachment["id"]])

    download = boris.http.get(attachment["url"])
    assert download.status_code == 200, download.text
    assert download.content == picture
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("inline")
    assert download.headers["x-content-type-options"] == "nosniff"
    # A range, as a browser asks for when seeking in audio or video.
    part = boris.http.get(attachment["url"], headers={"Range": "bytes=8-1031"})
    assert part.status_code == 206
    assert part.content == picture[8:1032]
    assert part.headers["content-range"] == f"bytes 8-1031/{len(picture)}"

    # The picture and its thumbnail, both in the bucket and nowhere else.
    stored = sorted(s3.body(bucket, key) == picture for key in s3.keys(bucket))
    assert stored == [False, True]
    assert local_files(first) == [] and local_files(second) == []
    # Someone who is not in the room gets nothing from either instance.
    assert second.login("emma").http.get(attachment["url"]).status_code == 404


def test_a_large_file_goes_up_in_parts_and_comes_back_whole(
    pair: tuple[LiveServer, LiveServer], s3: S3Server, bucket: str
) -> None:
    first, second = pair
    anna, boris = first.login("anna"), second.login("boris")
    room = new_room(anna, "boris")
    archive = os.urandom(19 * MiB + 12_345)  # three parts of a multipart upload
    uploaded = upload(anna.http, "/api/files", "logs.zip", archive, "application/zip")
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["size"] == len(archive)
    send(anna, room["id"], "", attachment_ids=[attachment["id"]])

    download = boris.http.get(attachment["url"])
    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(archive).digest()
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment")
    assert s3.unfinished_uploads(bucket) == []


def test_an_upload_over_the_limit_leaves_nothing_in_the_bucket(
    tmp_path: Path, postgres_database: PostgresDatabase, s3: S3Server, bucket: str
) -> None:
    limit = 10 * MiB  # past the first part: the multipart upload has begun when it is refused
    with instance_pair(
        tmp_path, postgres_database, upload_max_bytes=limit, **s3.settings(bucket)
    ) as (first, _):
        anna = first.login("anna")
        refused = upload(anna.http, "/api/files", "big.bin", b"x" * (limit + MiB), "text/plain")
        assert refused.status_code == 413, refused.text
        assert refused.json()["code"] == "file_too_large"
        assert s3.keys(bucket) == []
        assert s3.unfinished_uploads(bucket) == []
        visitor = visit(first)
        refused = upload(visitor.http, "/api/widget/files", "big.bin", b"x" * (limit + 1), "x/y")
        assert refused.status_code == 413
        assert s3.keys(bucket) == [] and s3.unfinished_uploads(bucket) == []


def test_downloads_can_be_redirected_to_a_short_lived_address(
    tmp_path: Path, postgres_database: PostgresDatabase, s3: S3Server, bucket: str
) -> None:
    settings = s3.settings(bucket, files_download="redirect", files_url_seconds=120)
    with instance_pair(tmp_path, postgres_database, **settings) as (first, second):
        anna, boris = first.login("anna"), second.login("boris")
        room = new_room(anna, "boris")
        page = b"<script>alert(1)</script>"
        uploaded = upload(anna.http, "/api/files", "отчёт.html", page, "text/html").json()
        send(anna, room["id"], "", attachment_ids=[uploaded["id"]])

        answer = boris.http.get(uploaded["url"])
        assert answer.status_code == 307
        assert answer.headers["cache-control"] == "no-store"
        address = httpx.URL(answer.headers["location"])
        assert address.host == "127.0.0.1" and address.port == s3.port
        assert address.params["X-Amz-Expires"] == "120"
        fetched = httpx.get(address)
        assert fetched.status_code == 200 and fetched.content == page
        # The storage hands it over as IMP would: a download, never a page to render.
        assert fetched.headers["content-type"] == "application/octet-stream"
        assert fetched.headers["content-disposition"].startswith("attachment")
        assert (
            "filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.html"
            in (fetched.headers["content-disposition"])
        )
        # No address for anyone not allowed the file.
        outsider = second.login("emma").http.get(uploaded["url"])
        assert outsider.status_code == 404 and "location" not in outsider.headers
        anonymous = httpx.get(f"{second.base_url}{uploaded['url']}")
        assert anonymous.status_code == 401 and "location" not in anonymous.headers


@pytest.mark.parametrize("downloads", ["stream", "redirect"])
def test_a_visitor_cannot_fetch_another_visitors_file(
    tmp_path: Path,
    postgres_database: PostgresDatabase,
    s3: S3Server,
    bucket: str,
    downloads: str,
) -> None:
    with instance_pair(
        tmp_path, postgres_database, **s3.settings(bucket, files_download=downloads)
    ) as (first, second):
        owner, stranger = visit(first), visit(second, address="127.0.0.2")
        secret = b"%PDF-1.7 passport scan"
        stored = upload(owner.http, "/api/widget/files", "паспорт.pdf", secret, "application/pdf")
        assert stored.status_code == 201, stored.text
        attachment = stored.json()
        assert owner.send("мой паспорт", attachment_ids=[attachment["id"]]).status_code == 201

        # Streamed in either mode: the widget fetches files with its token in a header.
        mine = visit(second, token=owner.token).http.get(f"/api/widget/files/{attachment['id']}")
        assert mine.status_code == 200 and mine.content == secret
        theirs = stranger.http.get(f"/api/widget/files/{attachment['id']}")
        assert theirs.status_code == 404 and "location" not in theirs.headers
        assert theirs.json()["code"] == "file_not_found"


def test_storage_out_of_reach_answers_503_and_references_nothing(
    tmp_path: Path, postgres_database: PostgresDatabase, s3: S3Server, bucket: str
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = s3.settings(bucket, s3_endpoint=nowhere)
    with instance_pair(tmp_path, postgres_database, **settings) as (server, _):
        anna = server.login("anna")
        refused = upload(anna.http, "/api/files", "a.txt", b"hello", "text/plain")
        assert refused.status_code == 503, refused.text
        assert refused.json() == {
            "detail": "File storage cannot be reached right now. Please try again shortly.",
            "code": "storage_unavailable",
        }
        visitor = visit(server)
        assert upload(visitor.http, "/api/widget/files", "a.txt", b"hi", "x/y").status_code == 503
        # Nothing was recorded that a message could point at: the next id is the first one.
        room = new_room(anna, "boris")
        attach = anna.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "", "attachment_ids": [1]}
        )
        assert attach.status_code == 422, attach.text


def test_local_files_move_to_the_bucket_and_are_served_from_it(
    tmp_path: Path, postgres_database: PostgresDatabase, s3: S3Server, bucket: str
) -> None:
    with instance_pair(tmp_path, postgres_database) as (local, _):
        anna = local.login("anna")
        room = new_room(anna, "boris")
        small, large = os.urandom(5_000), os.urandom(9 * MiB)
        urls = []
        for name, body in (("a.bin", small), ("b.bin", large)):
            attachment = upload(anna.http, "/api/files", name, body, "x/y").json()
            send(anna, room["id"], name, attachment_ids=[attachment["id"]])
            urls.append(attachment["url"])
        assert len(local_files(local)) == 2
    settings = local.settings

    moved = settings.model_copy(update=s3.settings(bucket) | {"files_backend": "local"})
    first = migrate(moved)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 copied" in first.stdout and "0 failed" in first.stdout
    assert len(s3.keys(bucket)) == 2
    again = migrate(moved)
    assert again.returncode == 0
    assert "0 copied" in again.stdout and "2 already in the bucket" in again.stdout
    # A copy that differs (cut short, say) is copied again.
    damaged = s3.keys(bucket)[0]
    s3.client.put_object(Bucket=bucket, Key=damaged, Body=b"cut short")
    repaired = migrate(moved)
    assert "1 copied" in repaired.stdout and "1 already in the bucket" in repaired.stdout

    # Served from the bucket, with the local files out of sight.
    for path in local_files(local):
        path.unlink()
    with running(settings.model_copy(update=s3.settings(bucket))) as on_s3:
        boris = on_s3.login("boris")
        assert [boris.http.get(url).content for url in urls] == [small, large]


def migrate(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVER_COMMAND, "files", "migrate", "--to", "s3"],
        env=settings_environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"redis_url": "redis://127.0.0.1:6379/0"},
        {"redis_url": "redis://127.0.0.1:6379/0", "workers": 2, "database_url": "postgresql://x"},
    ],
    ids=["redis", "workers"],
)
def test_several_instances_are_refused_local_files_that_only_one_sees(
    overrides: dict[str, Any],
) -> None:
    with pytest.raises(ValueError, match="IMP_FILES_BACKEND=s3, or set IMP_FILES_SHARED=true"):
        Settings(**overrides)
    assert Settings(**overrides, files_shared=True).files_backend == "local"
    assert Settings(**overrides, files_backend="s3", s3_bucket="files").files_backend == "s3"


def test_object_storage_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="IMP_S3_BUCKET"):
        Settings(files_backend="s3")
