"""The built front end as browsers get it: compressed, cached, within the widget's budget."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass

import httpx

from tests.harness import LiveServer

LOADER_BUDGET = 5 * 1024
WIDGET_UI_BUDGET = 60 * 1024


@dataclass
class Fetched:
    status_code: int
    headers: httpx.Headers
    body: bytes  # as it travelled: still compressed when the server compressed it


def fetch(server: LiveServer, path: str, compressed: bool = True) -> Fetched:
    headers = {"Accept-Encoding": "gzip" if compressed else "identity"}
    with (
        httpx.Client(base_url=server.base_url) as client,
        client.stream("GET", path, headers=headers) as response,
    ):
        # iter_raw: httpx would otherwise decompress on its own.
        return Fetched(response.status_code, response.headers, b"".join(response.iter_raw()))


def widget_key(server: LiveServer) -> str:
    admin = server.login("admin")
    sites = admin.http.get("/api/admin/resources").json()
    return str(next(s for s in sites if s["name"] == "Demo website")["public_key"])


def test_loader_is_sent_gzip_compressed_to_browsers_that_accept_it(built: LiveServer) -> None:
    plain = fetch(built, "/widget/loader.js", compressed=False)
    packed = fetch(built, "/widget/loader.js")
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.body) == plain.body
    assert len(packed.body) < len(plain.body)


def test_widget_stays_within_its_byte_budget_and_leaves_rrweb_and_calls_out(
    built: LiveServer,
) -> None:
    loader = fetch(built, "/widget/loader.js")
    frame = fetch(built, f"/widget/frame?key={widget_key(built)}")
    assert frame.status_code == 200
    html = gzip.decompress(frame.body).decode()
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', html)
    assert assets, "the frame page names its scripts and styles"
    responses = [fetch(built, path) for path in assets]
    assert all(r.status_code == 200 and r.headers["content-encoding"] == "gzip" for r in responses)
    assert len(loader.body) <= LOADER_BUDGET
    ui_bytes = len(frame.body) + sum(len(r.body) for r in responses)
    assert ui_bytes <= WIDGET_UI_BUDGET, f"widget UI is {ui_bytes} bytes gzip"
    # The session recorder is fetched only when a client allows co-browsing.
    everything = [gzip.decompress(r.body) for r in [loader, frame, *responses]]
    assert not any(b"rrweb" in body for body in everything)
    # Nor does the call code come before a call does (an invitation, or the client calling).
    assert not any(b"RTCPeerConnection" in body for body in everything)
    recorder = fetch(built, "/widget/cobrowse.js")
    assert b"rrweb" in gzip.decompress(recorder.body)


def test_hashed_assets_are_cached_for_a_year_and_pages_are_revalidated(built: LiveServer) -> None:
    page = fetch(built, "/login")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    script = re.search(r'src="(/assets/[^"]+\.js)"', gzip.decompress(page.body).decode())
    assert script is not None
    asset = fetch(built, script.group(1))
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = fetch(built, "/assets/no-such-file.js")
    assert missing.status_code == 404
