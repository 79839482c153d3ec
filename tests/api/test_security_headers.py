"""Headers that keep pages from being framed, scripted or sniffed, on the real built front end."""

from __future__ import annotations

from tests.harness import LiveServer
from tests.widget import demo_site, visit


def directives(csp: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in csp.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def test_workspace_pages_and_api_send_the_csp(built: LiveServer) -> None:
    http = built.client()
    index = http.get("/").text
    script = next(part.split('"')[0] for part in index.split('src="')[1:] if ".js" in part)
    for path in ("/", "/login", "/requests/5", "/rooms/1", "/api/health", "/api/me", script):
        response = http.get(path)
        csp = directives(response.headers["content-security-policy"])
        assert csp["script-src"] == "'self'", path
        assert csp["frame-ancestors"] == "'none'", path
        assert csp["object-src"] == "'none'", path
        assert csp["base-uri"] == "'self'", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
    assert "text/html" in http.get("/login").headers["content-type"]


def frame_headers(server: LiveServer, key: str) -> tuple[int, dict[str, str], str]:
    response = server.client().get("/widget/frame", params={"key": key})
    return (
        response.status_code,
        directives(response.headers["content-security-policy"]),
        response.headers.get("x-frame-options", ""),
    )


def test_widget_frame_is_framable_only_by_the_sites_origins(built: LiveServer) -> None:
    site = demo_site(built)
    admin = built.login("admin")
    status, csp, frame_options = frame_headers(built, site["public_key"])
    assert status == 200
    assert csp["frame-ancestors"] == "http://shop.example"
    assert csp["script-src"] == "'self'"
    # X-Frame-Options cannot name sites; an empty one lets the CSP alone decide.
    assert frame_options.upper() not in ("DENY", "SAMEORIGIN")

    two = ["https://shop.example", "https://www.shop.example"]
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"site_origins": two})
    assert frame_headers(built, site["public_key"])[1]["frame-ancestors"] == " ".join(two)

    # No origins listed: no site may frame the chat, and no visitor may start from one.
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"site_origins": []})
    assert frame_headers(built, site["public_key"])[1]["frame-ancestors"] == "'none'"
    refused = built.client().post(
        "/api/widget/session",
        json={"public_key": site["public_key"], "embedding_origin": "https://shop.example"},
    )
    assert refused.status_code == 403

    # Unknown and deleted resources get no chat page to frame.
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"site_origins": two})
    assert frame_headers(built, "no-such-key")[0] == 404
    other = admin.http.post(
        "/api/admin/resources", json={"name": "Gone", "site_origins": two}
    ).json()
    assert frame_headers(built, other["public_key"])[0] == 200
    admin.http.delete(f"/api/admin/resources/{other['id']}")
    status, csp, frame_options = frame_headers(built, other["public_key"])
    assert (status, csp["frame-ancestors"], frame_options) == (404, "'none'", "DENY")


def test_visitor_files_are_never_rendered_as_pages(built: LiveServer) -> None:
    visitor = visit(built)
    uploaded = visitor.http.post(
        "/api/widget/files",
        files={"file": ("page.html", b"<script>alert(1)</script>", "text/html")},
    ).json()
    response = visitor.http.get(f"/api/widget/files/{uploaded['id']}")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in response.headers["content-security-policy"]
