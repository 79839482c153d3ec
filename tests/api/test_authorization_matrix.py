"""Who may do what: every role against the endpoints that guard a room, a request or admin data."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_requests import queue_ids
from tests.api.test_rooms import new_room
from tests.harness import LiveServer
from tests.pictures import picture
from tests.widget import demo_site, visit

ALLOWED = {200, 201, 204}


def matrix_world(server: LiveServer) -> dict[str, Any]:
    anna = server.login("anna")  # room member, serves Sales
    emma = server.login("emma")  # serves Technical support only, not in the room
    admin = server.login("admin")
    olga_id = next(
        e["id"] for e in admin.http.get("/api/admin/employees").json() if e["login"] == "olga"
    )
    admin.http.patch(f"/api/admin/employees/{olga_id}", json={"role": "supervisor"})
    supervisor = server.login("olga")  # serves the demo website's queues: her team's
    room = new_room(anna, "boris", name="Matrix")
    visitor_a, visitor_b = visit(server), visit(server)
    visitor_a.pick(queue_ids(server)["Sales"])
    visitor_a.send("Вопрос A")
    request_id = visitor_a.conversation()["request"]["id"]
    anonymous = server.client()
    anonymous_widget = server.client()
    other_site = admin.http.post("/api/admin/resources", json={"name": "Other site"}).json()

    def token(scopes: list[str], resource_id: int | None = None) -> tuple[httpx.Client, int]:
        made = admin.http.post(
            "/api/admin/api-tokens",
            json={"name": "Matrix", "scopes": scopes, "resource_id": resource_id},
        ).json()
        http = server.client()
        http.headers["Authorization"] = f"Bearer {made['secret']}"
        return http, made["id"]

    api_token, _ = token(["read", "write"])
    read_token, _ = token(["read"])
    other_resource_token, _ = token(["read", "write"], other_site["id"])
    revoked_token, revoked_id = token(["read", "write"])
    admin.http.post(f"/api/admin/api-tokens/{revoked_id}/revoke")
    return {
        "admin": admin.http,
        "supervisor": supervisor.http,
        "serving employee": anna.http,
        "employee not serving": emma.http,
        "room member": anna.http,
        "non-member": emma.http,
        "visitor A": visitor_a.http,
        "visitor B": visitor_b.http,
        "anonymous": anonymous,
        "anonymous widget": anonymous_widget,
        "API token": api_token,
        "read-only API token": read_token,
        "other resource's API token": other_resource_token,
        "revoked API token": revoked_token,
        "room": room["id"],
        "request": request_id,
        "client": visitor_a.session["client"]["id"],
        "site": demo_site(server)["id"],
    }


def status(client: httpx.Client, method: str, url: str, body: Any = None) -> int:
    return client.request(method, url, json=body).status_code


def test_authorization_matrix(server: LiveServer) -> None:
    world = matrix_world(server)
    room, request, client = world["room"], world["request"], world["client"]
    # The public API: a token's scope and resource, never a session or a visitor token.
    public_read = {
        "API token": True,
        "read-only API token": True,
        "other resource's API token": False,
        "revoked API token": False,
        "admin": False,
        "visitor A": False,
        "anonymous": False,
    }
    public_write = {**public_read, "read-only API token": False}
    cases: list[tuple[str, str, Any, dict[str, bool]]] = [
        ("GET", "/api/v1/requests", None, {**public_read, "other resource's API token": True}),
        ("GET", f"/api/v1/requests/{request}", None, public_read),
        ("GET", f"/api/v1/requests/{request}/messages", None, public_read),
        ("GET", f"/api/v1/clients/{client}", None, public_read),
        ("GET", f"/api/v1/clients/{client}/contacts", None, public_read),
        (
            "POST",
            f"/api/v1/clients/{client}/contacts",
            {"kind": "other", "value": "CRM #1"},
            public_write,
        ),
        (
            "GET",
            "/api/admin/employees",
            None,
            {
                "admin": True,
                "supervisor": False,
                "serving employee": False,
                "anonymous": False,
                "visitor A": False,
                "API token": False,
            },
        ),
        (
            # Webhooks hold their signing secrets: administrators only.
            "GET",
            "/api/admin/webhooks",
            None,
            {
                "admin": True,
                "supervisor": False,
                "serving employee": False,
                "anonymous": False,
                "visitor A": False,
                "API token": False,
            },
        ),
        (
            "GET",
            "/api/reports/team?date_from=2026-01-01&date_to=2026-01-31",
            None,
            {
                "admin": True,
                "supervisor": True,
                "serving employee": False,
                "anonymous": False,
                "visitor A": False,
            },
        ),
        (
            "GET",
            f"/api/archive/{request}",
            None,
            {
                "admin": True,
                "supervisor": True,
                "employee not serving": False,
                "anonymous": False,
                "visitor A": False,
            },
        ),
        (
            "GET",
            f"/api/rooms/{room}/messages",
            None,
            {
                "room member": True,
                "non-member": False,
                "admin": False,
                "anonymous": False,
                "visitor A": False,
            },
        ),
        (
            "POST",
            f"/api/rooms/{room}/messages",
            {"body": "hi"},
            {"room member": True, "non-member": False, "anonymous": False},
        ),
        (
            "GET",
            f"/api/requests/{request}",
            None,
            {
                "serving employee": True,
                "employee not serving": False,
                "anonymous": False,
                "visitor B": False,
                "API token": False,
            },
        ),
        (
            "GET",
            f"/api/requests/{request}/messages",
            None,
            {"serving employee": True, "employee not serving": False, "visitor A": False},
        ),
        (
            "GET",
            f"/api/requests/{request}/calls/active",
            None,
            {
                "serving employee": True,
                "employee not serving": False,
                "anonymous": False,
                "visitor A": False,
            },
        ),
        (
            "GET",
            "/api/widget/conversation",
            None,
            {"visitor A": True, "visitor B": True, "anonymous widget": False},
        ),
        ("GET", "/api/requests/queue", None, {"serving employee": True, "anonymous": False}),
        # A website's identity secret: administrators only, to read or to regenerate.
        *[
            (
                method,
                f"/api/admin/resources/{world['site']}/identity-secret",
                None,
                {
                    "admin": True,
                    "supervisor": False,
                    "serving employee": False,
                    "employee not serving": False,
                    "anonymous": False,
                    "visitor A": False,
                    "API token": False,
                },
            )
            for method in ("GET", "POST")
        ],
        # IMP.setUser and IMP.setAttributes: a visitor's own token, nothing else.
        (
            "POST",
            "/api/widget/identity",
            {"id": "matrix-user"},
            {
                "visitor A": True,
                "anonymous widget": False,
                "admin": False,
                "serving employee": False,
                "API token": False,
            },
        ),
        (
            "POST",
            "/api/widget/attributes",
            {"attributes": {"plan": "pro"}},
            {
                "visitor A": True,
                "anonymous widget": False,
                "admin": False,
                "serving employee": False,
                "API token": False,
            },
        ),
        (
            "GET",
            "/api/search?q=a",
            None,
            {"serving employee": True, "anonymous": False, "visitor A": False},
        ),
    ]
    failures = []
    for method, url, body, expectations in cases:
        for role, allowed in expectations.items():
            code = status(world[role], method, url, body)
            if (code in ALLOWED) != allowed:
                expected = "allowed" if allowed else "refused"
                failures.append(f"{role} {method} {url} → {code} (expected {expected})")
    assert failures == []
    # Visitor B's own conversation holds nothing of visitor A's.
    bodies = [
        m["body"] for m in world["visitor B"].get("/api/widget/conversation").json()["messages"]
    ]
    assert "Вопрос A" not in bodies


def test_client_call_matrix(server: LiveServer) -> None:
    """A client's call: started by that request's visitor only, answered by its assignee only;
    nobody else reaches it."""
    world = matrix_world(server)
    request = world["request"]
    site = world["site"]
    calls_on = {"client_voice_calls": True, "client_video_calls": True}
    assert world["admin"].patch(f"/api/admin/resources/{site}", json=calls_on).status_code == 200
    assert world["serving employee"].post(f"/api/requests/{request}/accept").status_code == 200
    refused_all = {
        "admin": False,
        "supervisor": False,
        "employee not serving": False,
        "anonymous": False,
        "anonymous widget": False,
        "API token": False,
    }
    start = ("POST", "/api/widget/calls", {"kind": "voice"})
    failures = []
    # Visitor B has no request an employee has taken; the serving employee is no visitor.
    for role, allowed in {**refused_all, "visitor B": False, "serving employee": False}.items():
        if (status(world[role], *start) in ALLOWED) != allowed:
            failures.append(f"{role} started a call")
    started = world["visitor A"].post("/api/widget/calls", json={"kind": "voice"})
    assert started.status_code == 201, started.text
    call = started.json()["id"]
    answer = ("POST", f"/api/calls/{call}/answer", {"response": "accept"})
    for role in [*refused_all, "visitor A", "visitor B"]:
        if status(world[role], *answer) in ALLOWED:
            failures.append(f"{role} answered the call")
    for role in [*refused_all, "visitor B"]:
        if status(world[role], "POST", f"/api/widget/calls/{call}/hangup") in ALLOWED:
            failures.append(f"{role} hung up the call")
    assert status(world["serving employee"], *answer) == 200
    assert failures == []


def test_avatar_matrix(server: LiveServer) -> None:
    """An employee's photo: set and removed by that employee's own session only, and readable
    by anyone who has its address (clients see it on replies without signing in)."""
    world = matrix_world(server)
    photo = {"file": ("photo.png", picture(40, 40), "image/png")}
    failures = []
    for role in ("visitor A", "anonymous", "anonymous widget", "API token", "revoked API token"):
        if world[role].put("/api/me/avatar", files=photo).status_code in ALLOWED:
            failures.append(f"{role} set a photo")
        if status(world[role], "DELETE", "/api/me/avatar") in ALLOWED:
            failures.append(f"{role} removed a photo")
    for role in ("admin", "supervisor", "serving employee"):
        if world[role].put("/api/me/avatar", files=photo).status_code not in ALLOWED:
            failures.append(f"{role} could not set their photo")
    url = world["serving employee"].get("/api/me").json()["avatar_url"]
    # Each one's own: the others' photos are theirs, not the serving employee's.
    assert world["admin"].get("/api/me").json()["avatar_url"] != url
    for role in ("visitor A", "anonymous", "anonymous widget", "API token", "employee not serving"):
        if status(world[role], "GET", url) != 200:
            failures.append(f"{role} could not see the photo")
    assert status(world["serving employee"], "DELETE", "/api/me/avatar") == 200
    assert status(world["anonymous"], "GET", url) == 404
    assert failures == []
