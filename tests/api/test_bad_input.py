"""Bad input from outside: oversized, malformed, hostile or forged. Always a readable 4xx."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from impserver.channels.widget.visitors import (
    SOCKET_PROTOCOL,
    TOKEN_MAX_AGE_SECONDS,
    TOKEN_PURPOSE,
)
from impserver.core.security import sign, unsign
from impserver.demo import seed_demo
from impserver.domains.resources.models import Resource
from impserver.domains.rooms.models import Attachment
from tests.api.test_requests import queue_ids, taken
from tests.api.test_rooms import new_room
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.test_telegram import TOKEN, USER, connect_bot, start_server, wait_until
from tests.harness import LiveServer, free_port
from tests.widget import Visitor, demo_site, visit

MARKUP = '<img src=x onerror="window.__pwned=1"><b>bold</b> & <script>alert(1)</script>'


def stored_files(server: LiveServer) -> list[Path]:
    root = server.settings.resolved_files_path
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def attachment_rows(server: LiveServer) -> int:
    async def count() -> int:
        async with server.services.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(Attachment)) or 0)

    return server.run(count())


def multipart(filename: bytes, content: bytes, boundary: str = "imp-boundary") -> bytes:
    return (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: text/plain\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


MULTIPART = {"Content-Type": "multipart/form-data; boundary=imp-boundary"}


def raw_exchange(server: LiveServer, head: bytes, body: bytes, *, wait: float = 5) -> bytes:
    """Send bytes as they are (a lying Content-Length included) and return what comes back
    before the server closes the connection or ``wait`` seconds pass."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as conn:
        conn.sendall(head + body)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


@pytest.fixture
def small_uploads(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    """The demo IMP with a 1 KB upload limit."""
    settings = settings_factory(backend, upload_max_bytes=1024)
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


def upload_clients(server: LiveServer) -> dict[str, tuple[httpx.Client, str]]:
    """Both upload endpoints with a client allowed to use each."""
    return {
        "employee": (server.login("anna").http, "/api/files"),
        "visitor": (visit(server).http, "/api/widget/files"),
    }


# -- uploads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
def test_oversized_upload_is_413_with_the_limit_and_nothing_is_stored(
    small_uploads: LiveServer,
) -> None:
    server = small_uploads
    too_large = {
        "detail": "The file is too large: the limit is 1 KB.",
        "code": "file_too_large",
        "params": {"limit_bytes": 1024},
    }
    for kept, (who, (http, url)) in enumerate(upload_clients(server).items()):
        announced = http.post(url, files={"file": ("big.bin", b"x" * 200_000, "text/plain")})
        assert (announced.status_code, announced.json()) == (413, too_large), who

        body = multipart(b"big.bin", b"x" * 50_000)

        def chunked(data: bytes = body) -> Iterator[bytes]:
            # A generator is sent chunked: no Content-Length to refuse up front.
            for start in range(0, len(data), 4096):
                yield data[start : start + 4096]

        streamed = http.post(url, content=chunked(), headers=MULTIPART)
        assert (streamed.status_code, streamed.json()) == (413, too_large), who
        assert len(stored_files(server)) == attachment_rows(server) == kept, who

        at_limit = http.post(url, files={"file": ("ok.txt", b"y" * 1024, "text/plain")})
        assert at_limit.status_code == 201 and at_limit.json()["size"] == 1024, who
    assert len(stored_files(server)) == attachment_rows(server) == 2


def test_malformed_multipart_is_refused_with_a_message(server: LiveServer) -> None:
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("no file part", {"data": {"note": "x"}}, 422, "choose a file"),
        ("a JSON body", {"json": {"file": "x"}}, 422, "choose a file"),
        ("an empty file", {"files": {"file": ("a.txt", b"", "text/plain")}}, 422, "empty"),
        (
            "garbage between boundaries",
            {"content": b"no parts here", "headers": MULTIPART},
            400,
            "multipart",
        ),
        (
            "no boundary",
            {"content": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data"}},
            400,
            "boundary",
        ),
        (
            "two files",
            {
                "files": [
                    ("file", ("a.txt", b"a", "text/plain")),
                    ("file", ("b.txt", b"b", "text/plain")),
                ]
            },
            400,
            "files",
        ),
        (
            "a body cut short",
            {"content": multipart(b"a.txt", b"abc")[:-20], "headers": MULTIPART},
            422,
            "choose a file",
        ),
        (
            "a broken part header",
            {"content": multipart(b"a\r\nb.txt", b"abc"), "headers": MULTIPART},
            400,
            "multipart",
        ),
    ]
    failures = []
    for who, (http, url) in upload_clients(server).items():
        for name, request, status, word in cases:
            response = http.post(url, **request)
            detail = response.json().get("detail", "")
            if response.status_code != status or word not in str(detail).lower():
                failures.append(f"{who}, {name}: {response.status_code} {response.text[:200]}")
    assert failures == []
    assert stored_files(server) == [] and attachment_rows(server) == 0


def test_lying_content_length_stores_nothing_and_harms_nothing(server: LiveServer) -> None:
    anna = server.login("anna")
    visitor = visit(server)
    body = multipart(b"a.txt", b"x" * 500)
    for url, auth in (
        (
            "/api/files",
            f"Cookie: {anna.cookie_header}\r\nX-CSRF-Token: {anna.http.headers['X-CSRF-Token']}",
        ),
        ("/api/widget/files", f"Authorization: Bearer {visitor.token}"),
    ):
        for declared in (len(body) + 10_000, len(body) // 2):
            head = (
                f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{auth}\r\n"
                f"Content-Type: {MULTIPART['Content-Type']}\r\n"
                f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
            ).encode()
            answer = raw_exchange(server, head, body, wait=2 if declared > len(body) else 5)
            # Claiming more than is sent: the server waits, then the client hangs up; nobody
            # reads an answer. Claiming less: the body is cut off, so the form is malformed.
            assert b"HTTP/1.1 5" not in answer, answer[:300]
            if declared < len(body):
                assert answer.startswith(b"HTTP/1.1 422"), answer[:300]
                assert b"choose a file to upload" in answer
    assert stored_files(server) == [] and attachment_rows(server) == 0
    # The server is still there for everybody.
    assert anna.http.get("/api/me").status_code == 200


HOSTILE_NAMES: list[tuple[bytes, str]] = [
    (b"../../etc/passwd", "passwd"),
    (b"/etc/passwd", "passwd"),
    (b"..\\..\\windows\\system32\\evil.dll", "evil.dll"),
    (b"C:\\Users\\Public\\evil.txt", "evil.txt"),
    (b"..", "file"),
    (b".", "file"),
    (b"", "file"),
    (b".hidden", "hidden"),
    (b"a\x00b.txt", "ab.txt"),
    (b"tab\tand\x7fdel.txt", "tabanddel.txt"),
    ("\u202etxt.exe".encode(), "txt.exe"),
    (b"\xff\xfe-not-utf8.txt", "-not-utf8.txt"),
    ("отчёт 2024.pdf".encode(), "отчёт 2024.pdf"),
    (b"x" * 1000 + b".txt", "x" * 255),
]


def test_file_names_are_cleaned_and_files_land_inside_storage(server: LiveServer) -> None:
    root = server.settings.resolved_files_path
    failures = []
    for who, (http, url) in upload_clients(server).items():
        for raw, expected in HOSTILE_NAMES:
            content = b"content of " + raw
            response = http.post(url, content=multipart(raw, content), headers=MULTIPART)
            if response.status_code != 201:
                failures.append(f"{who} {raw!r}: {response.status_code} {response.text[:200]}")
                continue
            name = response.json()["file_name"]
            if not name.endswith(expected) or any(c in name for c in "/\\\x00\r\n\u202e"):
                failures.append(f"{who} {raw!r}: stored as {name!r}")
            if name.startswith("."):
                failures.append(f"{who} {raw!r}: hidden name {name!r}")
            # The file comes back whole, under its cleaned name, and only as an attachment.
            download = (
                http.get(response.json()["url"])
                if who == "employee"
                else http.get(f"/api/widget/files/{response.json()['id']}")
            )
            if download.content != content:
                failures.append(f"{who} {raw!r}: downloaded {download.content[:40]!r}")
            disposition = download.headers.get("content-disposition", "")
            if not disposition.startswith("attachment") or "\r" in disposition:
                failures.append(f"{who} {raw!r}: Content-Disposition {disposition!r}")
    assert failures == []
    files = stored_files(server)
    assert len(files) == 2 * len(HOSTILE_NAMES)
    for path in files:
        assert path.resolve().is_relative_to(root)
        assert "passwd" not in path.name and "evil" not in path.name


# -- text -------------------------------------------------------------------------------------


def test_huge_texts_are_422_naming_the_limit(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    admin = server.login("admin")
    room = new_room(anna, "boris")
    client_id = visitor.session["client"]["id"]
    cases: list[tuple[str, httpx.Client, str, str, dict[str, Any], str]] = [
        (
            "room message",
            anna.http,
            "POST",
            f"/api/rooms/{room['id']}/messages",
            {"body": "я" * 10_001},
            "10000",
        ),
        (
            "request reply",
            anna.http,
            "POST",
            f"/api/requests/{request_id}/messages",
            {"body": "x" * 10_001},
            "10000",
        ),
        (
            "widget message",
            visitor.http,
            "POST",
            "/api/widget/messages",
            {"body": "x" * 10_001},
            "10000",
        ),
        ("room name", anna.http, "PATCH", f"/api/rooms/{room['id']}", {"name": "x" * 201}, "200"),
        (
            "employee name",
            admin.http,
            "POST",
            "/api/admin/employees",
            {"login": "longname", "name": "x" * 121, "password": "long-password"},
            "120",
        ),
        (
            "client name",
            anna.http,
            "PATCH",
            f"/api/clients/{client_id}",
            {"display_name": "x" * 121},
            "120",
        ),
        (
            "contact",
            anna.http,
            "PUT",
            f"/api/clients/{client_id}/contacts",
            {"contacts": [{"kind": "other", "value": "x" * 256}]},
            "255",
        ),
        (
            "message id",
            visitor.http,
            "POST",
            "/api/widget/messages",
            {"body": "hi", "client_message_id": "x" * 65},
            "64",
        ),
    ]
    failures = []
    for name, http, method, url, body, limit in cases:
        response = http.request(method, url, json=body)
        detail = str(response.json().get("detail", ""))
        if response.status_code != 422 or limit not in detail:
            failures.append(f"{name}: {response.status_code} {detail[:200]}")
    assert failures == []


def test_bodies_beyond_a_megabyte_are_413_before_they_are_read(server: LiveServer) -> None:
    anna = server.login("anna")
    room = new_room(anna, "boris")
    padding = "x" * (1024 * 1024)

    def chunked() -> Iterator[bytes]:
        yield b'{"body": "'
        for _ in range(300):
            yield b"x" * 10_000
        yield b'"}'

    for http, url in (
        (anna.http, f"/api/rooms/{room['id']}/messages"),
        (server.client(), "/api/auth/login"),
        (server.client(), "/api/widget/session"),
    ):
        assert http.post(url, json={"body": padding}).status_code == 413, url
        streamed = http.post(url, content=chunked(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413, url
        assert "too large" in streamed.text.lower()


def employee_and_visitor_endpoints(server: LiveServer) -> list[tuple[str, httpx.Client, str, str]]:
    anna, visitor, request_id = taken(server, "anna")
    admin = server.login("admin")
    room = new_room(anna, "boris")
    return [
        ("login", server.client(), "POST", "/api/auth/login"),
        ("widget session", server.client(), "POST", "/api/widget/session"),
        ("widget message", visitor.http, "POST", "/api/widget/messages"),
        ("widget topic", visitor.http, "POST", "/api/widget/topic"),
        ("room message", anna.http, "POST", f"/api/rooms/{room['id']}/messages"),
        ("room rename", anna.http, "PATCH", f"/api/rooms/{room['id']}"),
        ("new room", anna.http, "POST", "/api/rooms"),
        ("request reply", anna.http, "POST", f"/api/requests/{request_id}/messages"),
        ("transfer", anna.http, "POST", f"/api/requests/{request_id}/transfer-queue"),
        ("preferences", anna.http, "PATCH", "/api/me"),
        ("new employee", admin.http, "POST", "/api/admin/employees"),
        ("new resource", admin.http, "POST", "/api/admin/resources"),
        ("contacts", anna.http, "PUT", f"/api/clients/{visitor.session['client']['id']}/contacts"),
        ("call invite", anna.http, "POST", f"/api/requests/{request_id}/calls"),
    ]


MALFORMED_BODIES: list[tuple[str, bytes, str]] = [
    ("invalid UTF-8", b'{"body": "\xff\xfe\xfd"}', "application/json"),
    ("truncated JSON", b'{"body": "unfinished', "application/json"),
    ("not JSON at all", b"body=hello", "application/json"),
    ("a JSON array", b'["body", "hello"]', "application/json"),
    ("a JSON string", b'"hello"', "application/json"),
    ("JSON null", b"null", "application/json"),
    ("an empty body", b"", "application/json"),
    ("nesting past the parser's depth", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("a number past 64 bits", b'{"queue_id": 1' + b"0" * 40 + b"}", "application/json"),
    ("a huge exponent", b'{"queue_id": 1e400}', "application/json"),
    ("NaN", b'{"queue_id": NaN}', "application/json"),
    ("a text body", b"hello", "text/plain"),
    ("a form body", b"body=hello", "application/x-www-form-urlencoded"),
    (
        "the wrong field types",
        b'{"body": 5, "login": [], "name": {}, "queue_id": "x"}',
        "application/json",
    ),
]


def test_malformed_bodies_anywhere_are_a_readable_4xx(server: LiveServer) -> None:
    failures = []
    for name, http, method, url in employee_and_visitor_endpoints(server):
        for body_name, body, content_type in MALFORMED_BODIES:
            response = http.request(
                method, url, content=body, headers={"Content-Type": content_type}
            )
            try:
                detail = response.json()["detail"]
            except (ValueError, KeyError, TypeError):
                detail = None
            if not 400 <= response.status_code < 500 or not isinstance(detail, str) or not detail:
                failures.append(
                    f"{name} with {body_name}: {response.status_code} {response.text[:120]}"
                )
    assert failures == []


def test_nul_characters_are_refused_with_a_message(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    admin = server.login("admin")
    room = new_room(anna, "boris")
    client_id = visitor.session["client"]["id"]
    key = demo_key(server)
    nul = "a\u0000b"
    cases: list[
        tuple[str, httpx.Client, str, str, dict[str, Any] | None, dict[str, str] | None]
    ] = [
        (
            "room message",
            anna.http,
            "POST",
            f"/api/rooms/{room['id']}/messages",
            {"body": nul},
            None,
        ),
        (
            "request reply",
            anna.http,
            "POST",
            f"/api/requests/{request_id}/messages",
            {"body": nul},
            None,
        ),
        ("widget message", visitor.http, "POST", "/api/widget/messages", {"body": nul}, None),
        (
            "message id",
            visitor.http,
            "POST",
            "/api/widget/messages",
            {"body": "x", "client_message_id": nul},
            None,
        ),
        ("room name", anna.http, "PATCH", f"/api/rooms/{room['id']}", {"name": nul}, None),
        (
            "login",
            server.client(),
            "POST",
            "/api/auth/login",
            {"login": nul, "password": nul},
            None,
        ),
        (
            "widget session",
            server.client(),
            "POST",
            "/api/widget/session",
            {"public_key": key, "name": nul},
            None,
        ),
        (
            "page address",
            server.client(),
            "POST",
            "/api/widget/session",
            {"public_key": key, "page_url": nul},
            None,
        ),
        (
            "client name",
            anna.http,
            "PATCH",
            f"/api/clients/{client_id}",
            {"display_name": nul},
            None,
        ),
        (
            "contact",
            anna.http,
            "PUT",
            f"/api/clients/{client_id}/contacts",
            {"contacts": [{"kind": "other", "value": nul}]},
            None,
        ),
        (
            "employee name",
            admin.http,
            "POST",
            "/api/admin/employees",
            {"login": "nulguy", "name": nul, "password": "long-password"},
            None,
        ),
        (
            "site origin",
            admin.http,
            "POST",
            "/api/admin/resources",
            {"name": "x", "site_origins": [f"https://{nul}.example"]},
            None,
        ),
        ("search", anna.http, "GET", "/api/search", None, {"q": nul}),
        ("widget frame", server.client(), "GET", "/widget/frame", None, {"key": nul}),
    ]
    failures = []
    for name, http, method, url, body, params in cases:
        response = http.request(method, url, json=body, params=params)
        detail = (
            str(response.json().get("detail", ""))
            if response.headers.get("content-type", "").startswith("application/json")
            else ""
        )
        if response.status_code != 422 or "NUL character" not in detail:
            failures.append(f"{name}: {response.status_code} {response.text[:200]}")
    assert failures == []


def demo_key(server: LiveServer) -> str:
    return str(demo_site(server)["public_key"])


def test_markup_is_kept_verbatim_and_served_as_json_text(server: LiveServer) -> None:
    admin = server.login("admin")
    created = admin.http.post(
        "/api/admin/employees",
        json={"login": "markup", "name": MARKUP[:120], "password": "long-password"},
    )
    assert created.status_code == 201, created.text
    marked = server.login("markup", "long-password")
    anna = server.login("anna")
    room = new_room(anna, "markup", name=MARKUP[:200])
    visitor = visit(server, name=MARKUP[:120])
    visitor.pick(queue_ids(server)["Sales"])
    assert visitor.send(MARKUP).status_code == 201
    request_id = visitor.conversation()["request"]["id"]
    assert anna.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    client_id = visitor.session["client"]["id"]
    anna.http.put(
        f"/api/clients/{client_id}/contacts",
        json={"contacts": [{"kind": "other", "value": MARKUP}]},
    )
    anna.http.post(f"/api/requests/{request_id}/messages", json={"body": MARKUP})
    marked.http.post(f"/api/rooms/{room['id']}/messages", json={"body": MARKUP})

    def texts(response: httpx.Response) -> list[str]:
        assert response.headers["content-type"] == "application/json"
        found: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str) and "<" in value:
                found.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(response.json())
        return found

    views = {
        "employee list": texts(admin.http.get("/api/admin/employees")),
        "colleagues": texts(anna.http.get("/api/employees")),
        "room": texts(anna.http.get(f"/api/rooms/{room['id']}")),
        "room history": texts(anna.http.get(f"/api/rooms/{room['id']}/messages")),
        "request": texts(anna.http.get(f"/api/requests/{request_id}")),
        "request history": texts(anna.http.get(f"/api/requests/{request_id}/messages")),
        "client": texts(anna.http.get(f"/api/clients/{client_id}")),
        "widget": texts(visitor.http.get("/api/widget/conversation")),
    }
    expected = {MARKUP, MARKUP[:120], MARKUP[:200]}
    for view, found in views.items():
        assert found, f"{view} shows none of the markup"
        assert set(found) <= expected, f"{view} changed the text: {set(found) - expected}"
    # Escaped or stripped copies would have been caught above; nothing came back as &lt;.
    assert all("&lt;" not in t and "&amp;" not in t for found in views.values() for t in found)


# -- forged visitors ----------------------------------------------------------------------------


def forged_tokens(server: LiveServer, visitor: Visitor) -> dict[str, str]:
    secret = server.settings.resolved_secret_key
    ids = unsign(visitor.token, secret, TOKEN_PURPOSE)
    assert ids is not None
    body, mac = visitor.token.split(".")
    other = visit(server)
    return {
        "no token": "",
        "garbage": "forged",
        "forged": "eyJjIjoxLCJyIjoxfQ.bm90LWEtbWFj",
        "another visitor's identity": f"{other.token.split('.')[0]}.{mac}",
        "signature changed": f"{body}.{mac[:-2]}{'AA' if not mac.endswith('AA') else 'BB'}",
        "another key": sign(ids, "not-the-key", TOKEN_PURPOSE),
        "another purpose": sign(ids, secret, "session"),
        "expired": sign(
            {**ids, "t": int(time.time()) - TOKEN_MAX_AGE_SECONDS - 60}, secret, TOKEN_PURPOSE
        ),
        "employee session": server.login("anna").http.cookies["imp_session"],
    }


def test_forged_visitor_tokens_are_401_on_every_widget_endpoint(server: LiveServer) -> None:
    visitor = visit(server)
    tokens = forged_tokens(server, visitor)
    schema = server.client().get("/openapi.json").json()
    endpoints = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/widget/") and path != "/api/widget/session"
        for method in operations
    ]
    assert len(endpoints) >= 10, endpoints
    failures = []
    for method, path in endpoints:
        url = path.replace("{call_id}", "1").replace("{attachment_id}", "1")
        for name, token in tokens.items():
            http = server.client()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = http.request(method, url, json={}, headers=headers)
            if response.status_code != 401 or "not valid" not in response.json().get("detail", ""):
                failures.append(
                    f"{name}: {method} {url} → {response.status_code} {response.text[:100]}"
                )
    for name, token in tokens.items():
        if not token:
            continue
        response = server.client().post(
            "/api/widget/session",
            json={
                "public_key": demo_key(server),
                "visitor_token": token,
                "embedding_origin": "http://shop.example",
            },
        )
        if response.status_code != 401:
            failures.append(f"{name}: POST /api/widget/session → {response.status_code}")
    assert failures == []
    # The real token works on the same endpoints.
    assert visitor.http.get("/api/widget/conversation").status_code == 200


# -- Telegram ---------------------------------------------------------------------------------


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    fake.add_bot(TOKEN)
    yield fake
    fake.stop()


def test_telegram_webhook_refuses_a_wrong_or_missing_secret(
    settings_factory: Any, telegram: FakeTelegram
) -> None:
    live = start_server(settings_factory, telegram, "webhook")
    try:
        bot = connect_bot(live, topic_seconds=0)
        secret = telegram.bots[TOKEN].webhook_secret
        assert secret
        update = {
            "update_id": 99,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": USER, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "Mallory"},
                "text": "forged update",
            },
        }
        url = f"/api/channels/telegram/{bot['id']}/webhook"
        resources = live.login("admin").http.get("/api/admin/resources").json()
        site_id = next(r["id"] for r in resources if r["kind"] == "website")
        http = live.client()
        header = "X-Telegram-Bot-Api-Secret-Token"
        cases: list[tuple[str, str, dict[str, str], bytes]] = [
            ("no secret", url, {}, json.dumps(update).encode()),
            ("empty secret", url, {header: ""}, json.dumps(update).encode()),
            ("wrong secret", url, {header: "wrong"}, json.dumps(update).encode()),
            ("secret with a suffix", url, {header: secret + "x"}, json.dumps(update).encode()),
            (
                "the website's id",
                f"/api/channels/telegram/{site_id}/webhook",
                {header: secret},
                json.dumps(update).encode(),
            ),
            (
                "an unknown bot",
                "/api/channels/telegram/424242/webhook",
                {header: secret},
                json.dumps(update).encode(),
            ),
            (
                "an id past 32 bits",
                f"/api/channels/telegram/{2**40}/webhook",
                {header: secret},
                json.dumps(update).encode(),
            ),
            ("malformed body, no secret", url, {}, b"{not json"),
            (
                "huge body, wrong secret",
                url,
                {header: "wrong"},
                b'{"x": "' + b"x" * 500_000 + b'"}',
            ),
        ]
        failures = []
        for name, target, headers, body in cases:
            response = http.post(
                target, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            if response.status_code not in (401, 403):
                failures.append(f"{name}: {response.status_code} {response.text[:120]}")
        assert failures == []
        # None of it was processed: no request, nothing sent to the Telegram user.
        anna = live.login("anna")
        time.sleep(0.5)
        assert anna.http.get("/api/requests/queue").json() == []
        assert telegram.sent_to(USER) == []
        # The right secret gets the same update in.
        ok = http.post(url, json=update, headers={header: secret})
        assert ok.status_code == 200, ok.text
        bad = http.post(
            url, content=b"{not json", headers={header: secret, "Content-Type": "application/json"}
        )
        assert bad.status_code == 422 and bad.json()["detail"] == "Not a Telegram update."
        card = wait_until(lambda: anna.http.get("/api/requests/queue").json())[0]
        assert card["last_message"]["body"] == "forged update"
    finally:
        live.stop()


# -- headers, paths and origins that are not what they should be -----------------------------


def test_non_ascii_secrets_in_headers_are_refused_not_errors(
    settings_factory: Any, telegram: FakeTelegram
) -> None:
    """A header may carry any byte; a secret compared with one that is not ASCII is simply a
    mismatch (403/401), never a 500."""
    live = start_server(settings_factory, telegram, "webhook")
    try:
        bot = connect_bot(live, topic_seconds=0)
        anna = live.login("anna")
        failures = []
        for value in ("é".encode(), b"\xff\xfe", "токен".encode()):
            write = anna.http.patch(
                "/api/me", json={"language": "en"}, headers={"X-CSRF-Token": value}
            )
            if write.status_code != 403 or write.json().get("code") != "csrf":
                failures.append(f"CSRF {value!r}: {write.status_code} {write.text[:80]}")
            hook = live.client().post(
                f"/api/channels/telegram/{bot['id']}/webhook",
                json={"update_id": 1},
                headers={"X-Telegram-Bot-Api-Secret-Token": value},
            )
            if hook.status_code != 403:
                failures.append(f"Telegram {value!r}: {hook.status_code} {hook.text[:80]}")
            widget = live.client().get(
                "/api/widget/conversation", headers={"Authorization": b"Bearer " + value}
            )
            if widget.status_code != 401:
                failures.append(f"visitor {value!r}: {widget.status_code} {widget.text[:80]}")
        for origin in (b"http://[", "http://é.example".encode(), b"http://[::1"):
            write = anna.http.patch("/api/me", json={"language": "en"}, headers={"Origin": origin})
            if write.status_code != 403 or write.json().get("code") != "cross_site":
                failures.append(f"Origin {origin!r}: {write.status_code} {write.text[:80]}")
        assert failures == []
        # The real token still passes.
        ok = anna.http.patch("/api/me", json={"language": "en"})
        assert ok.status_code == 200, ok.text
    finally:
        live.stop()


def test_nul_and_unreadable_names_in_page_paths_are_404(built: LiveServer) -> None:
    http = built.client()
    for path in ("/%00/x", "/%00", "/x%00y", "/assets/%00.js", "/assets/a%00/b.js"):
        response = http.get(path)
        assert response.status_code == 404, (path, response.status_code, response.text[:80])
        assert response.json()["detail"], path
    # Client-side routes of the workspace are still served its page, even a name too long for
    # the file system.
    assert http.get("/requests/5").status_code == 200
    assert http.get("/" + "a" * 5000).status_code == 200


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example; script-src 'unsafe-inline'",
        "https://shop.example https://evil.example",
        "https://shop.example,https://evil.example",
        "https://shop .example",
        "https://user@shop.example",
        "https://shop.example:99999",
        "javascript:alert(1)",
        "https://shop.example\t",
        "'self'",
        "*",
    ],
)
def test_site_origins_are_only_scheme_host_and_port(built: LiveServer, origin: str) -> None:
    admin = built.login("admin")
    site = demo_site(built)
    refused = admin.http.patch(
        f"/api/admin/resources/{site['id']}", json={"site_origins": ["https://ok.example", origin]}
    )
    if origin.endswith("\t"):
        # Surrounding blanks are an admin's slip that trimming fixes, not an injection.
        assert refused.status_code == 200, refused.text
        return
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "invalid"
    assert body["detail"].startswith("site_origins")
    assert "scheme://host[:port]" in body["detail"]
    frame = built.client().get("/widget/frame", params={"key": site["public_key"]})
    assert "frame-ancestors http://shop.example;" in frame.headers["content-security-policy"]


def test_a_stored_origin_cannot_add_to_the_frame_policy(built: LiveServer) -> None:
    """An origin saved before origins were checked (or written by hand) is left out of the
    header rather than copied into it."""
    site = demo_site(built)

    async def store_bad_origin() -> None:
        async with built.services.db.transaction() as uow:
            resource = await uow.session.get(Resource, site["id"])
            assert resource is not None
            resource.site_origins = [
                "http://shop.example",
                "https://x.example; script-src 'unsafe-inline'",
            ]

    built.run(store_bad_origin())
    csp = (
        built.client()
        .get("/widget/frame", params={"key": site["public_key"]})
        .headers["content-security-policy"]
    )
    assert "unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors http://shop.example;" in csp


def test_blocking_a_client_revokes_their_visitor_tokens(server: LiveServer) -> None:
    """Once blocked, a client's token opens neither the socket nor the API, and the socket they
    had open is closed; the widget is told it is blocked."""
    anna, visitor, request_id = taken(server, "anna")
    other = visit(server)
    with visitor.socket() as open_socket:
        assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204
        closed = open_socket.receive_until(lambda f: f.get("type") == "closed")
        assert closed["reason"] == "session_revoked"
    for method, url in (
        ("GET", "/api/widget/conversation"),
        ("GET", "/api/widget/calls/active"),
        ("POST", "/api/widget/messages"),
    ):
        response = visitor.http.request(method, url, json={"body": "still here?"})
        assert response.status_code == 403, (url, response.text)
        assert response.json()["code"] == "blocked"
    offered = [Subprotocol(SOCKET_PROTOCOL), Subprotocol(visitor.token)]
    with connect(f"{server.ws_url}/widget", subprotocols=offered, open_timeout=5) as refused:
        assert json.loads(refused.recv(timeout=5)) == {
            "type": "closed",
            "reason": "not_authenticated",
        }
    # Another visitor is untouched.
    assert other.http.get("/api/widget/conversation").status_code == 200
    with other.socket() as fine:
        assert fine.ready["type"] == "ready"
