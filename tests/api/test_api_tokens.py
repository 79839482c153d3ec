"""API tokens: made by administrators, shown once, kept as digests, held to their scopes and
resource, refused at once when revoked, and counted per token."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from impserver.demo import seed_demo
from impserver.domains.integrations.models import ApiToken
from tests.harness import LiveServer, free_port
from tests.widget import demo_site


def new_token(server: LiveServer, name: str = "CRM", **fields: Any) -> dict[str, Any]:
    admin = server.login("admin")
    body = {"name": name, "scopes": ["read", "write"], **fields}
    response = admin.http.post("/api/admin/api-tokens", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def with_token(server: LiveServer, secret: str) -> httpx.Client:
    http = server.client()
    http.headers["Authorization"] = f"Bearer {secret}"
    return http


def stored_tokens(server: LiveServer) -> list[ApiToken]:
    async def read() -> list[ApiToken]:
        async with server.services.db.read() as session:
            return list(await session.scalars(select(ApiToken).order_by(ApiToken.id)))

    return server.run(read())


def test_a_token_is_shown_once_and_kept_as_a_digest(server: LiveServer) -> None:
    site = demo_site(server)
    made = new_token(server, "  Shop CRM ", scopes=["read"], resource_id=site["id"])
    secret = made.pop("secret")
    assert secret.startswith("imp_") and len(secret) > 40
    assert made["name"] == "Shop CRM" and made["scopes"] == ["read"]
    assert made["resource"] == {"id": site["id"], "name": site["name"]}
    assert made["prefix"] == secret[:10] and made["created_by"] == server.login("admin").me["name"]
    assert made["last_used_at"] is None and made["revoked_at"] is None

    listed = server.login("admin").http.get("/api/admin/api-tokens").json()
    assert listed == [made]
    assert secret not in str(listed)
    [stored] = stored_tokens(server)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (stored.token_hash, stored.prefix)

    assert with_token(server, secret).get("/api/v1/requests").status_code == 200
    used = server.login("admin").http.get("/api/admin/api-tokens").json()[0]
    assert used["last_used_at"] is not None


def test_only_administrators_keep_tokens(server: LiveServer) -> None:
    token = new_token(server)
    anna = server.login("anna")
    assert anna.http.get("/api/admin/api-tokens").status_code == 403
    assert (
        anna.http.post("/api/admin/api-tokens", json={"name": "x", "scopes": ["read"]}).status_code
        == 403
    )
    assert anna.http.post(f"/api/admin/api-tokens/{token['id']}/revoke").status_code == 403
    assert server.client().get("/api/admin/api-tokens").status_code == 401
    # A token is no way into the workspace's own API.
    assert with_token(server, token["secret"]).get("/api/requests/mine").status_code == 401
    assert with_token(server, token["secret"]).get("/api/admin/api-tokens").status_code == 401


def test_bad_token_forms_are_refused_naming_the_field(server: LiveServer) -> None:
    admin = server.login("admin")
    for body, field in [
        ({"name": "  ", "scopes": ["read"]}, "name"),
        ({"name": "CRM", "scopes": []}, "scopes"),
        ({"name": "CRM", "scopes": ["admin"]}, "scopes"),
        ({"name": "x" * 81, "scopes": ["read"]}, "name"),
        ({"name": "CRM", "scopes": ["read"], "resource_id": 0}, "resource_id"),
    ]:
        response = admin.http.post("/api/admin/api-tokens", json=body)
        assert response.status_code == 422, body
        assert field in [e["loc"][1] for e in response.json()["errors"]], response.json()
    unknown = admin.http.post(
        "/api/admin/api-tokens", json={"name": "CRM", "scopes": ["read"], "resource_id": 9999}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "api_token_resource_unknown"
    assert admin.http.post("/api/admin/api-tokens/9999/revoke").status_code == 404
    assert admin.http.get("/api/admin/api-tokens").json() == []


def test_revoking_takes_effect_at_once(server: LiveServer) -> None:
    token = new_token(server)
    other = new_token(server, "Analytics")
    http = with_token(server, token["secret"])
    assert http.get("/api/v1/clients").status_code == 200
    revoked = server.login("admin").http.post(f"/api/admin/api-tokens/{token['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = http.get("/api/v1/clients")
    assert refused.status_code == 401 and refused.json()["code"] == "api_token_invalid"
    # Revoking again changes nothing; the other token goes on working.
    again = server.login("admin").http.post(f"/api/admin/api-tokens/{token['id']}/revoke")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert with_token(server, other["secret"]).get("/api/v1/clients").status_code == 200


def test_missing_and_wrong_tokens_are_401(server: LiveServer) -> None:
    token = new_token(server)
    for headers, code in [
        ({}, "api_token_missing"),
        ({"Authorization": "Basic abc"}, "api_token_missing"),
        ({"Authorization": "Bearer"}, "api_token_missing"),
        ({"Authorization": "Bearer imp_not-a-token"}, "api_token_invalid"),
        ({"Authorization": f"Bearer {token['secret']}x"}, "api_token_invalid"),
    ]:
        response = server.client().get("/api/v1/requests", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == code, headers


def test_scopes_are_checked_on_every_call(server: LiveServer) -> None:
    reader = with_token(server, new_token(server, "R", scopes=["read"])["secret"])
    writer = with_token(server, new_token(server, "W", scopes=["write"])["secret"])
    assert reader.get("/api/v1/clients").status_code == 200
    denied = reader.post("/api/v1/requests/1/close")
    assert denied.status_code == 403 and denied.json()["code"] == "api_scope_write"
    denied = writer.get("/api/v1/clients")
    assert denied.status_code == 403 and denied.json()["code"] == "api_scope_read"
    missing = writer.post("/api/v1/requests/999999/close")
    assert missing.status_code == 404, missing.text


def test_calls_are_limited_per_token(backend: str, settings_factory: Any) -> None:
    settings = settings_factory(backend, api_token_requests_per_minute=5)
    live = LiveServer(settings, free_port()).start()
    try:
        live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
        busy = with_token(live, new_token(live, "Busy")["secret"])
        calm = with_token(live, new_token(live, "Calm")["secret"])
        answers = [busy.get("/api/v1/clients") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        limited = answers[-1]
        assert limited.json()["code"] == "api_rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # Another token has its own count.
        assert calm.get("/api/v1/clients").status_code == 200
    finally:
        live.stop()


def test_unreadable_tokens_and_bodies_are_refused_not_errors(server: LiveServer) -> None:
    for value in ("é".encode(), b"\xff\xfe", "токен".encode(), b"imp_" + b"a" * 5000):
        response = server.client().get(
            "/api/v1/requests", headers={"Authorization": b"Bearer " + value}
        )
        assert response.status_code == 401, (value[:10], response.text)
        assert response.json()["code"] == "api_token_invalid"
    api = with_token(server, new_token(server)["secret"])
    for content in (b"{", b"\xff\xfe", b"[]", b'"text"', b"null"):
        response = api.post(
            "/api/v1/clients/1/contacts",
            content=content,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422, (content, response.text)
        assert isinstance(response.json()["detail"], str)
