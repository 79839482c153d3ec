"""The public API, called by an integration with a token: every endpoint, its refusals, and the
resource a token is held to."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.api.test_api_tokens import new_token, with_token
from tests.api.test_requests import queue_ids, taken, waiting_request
from tests.harness import LiveServer
from tests.widget import demo_site, visit


def integration(server: LiveServer, **fields: Any) -> httpx.Client:
    return with_token(server, new_token(server, **fields)["secret"])


def other_resource(server: LiveServer) -> dict[str, Any]:
    admin = server.login("admin")
    other = admin.http.post("/api/admin/resources", json={"name": "Other site"}).json()
    queue = admin.http.post(
        f"/api/admin/resources/{other['id']}/queues", json={"name": "Foreign"}
    ).json()
    return {**other, "queue_id": queue["id"]}


def test_an_integration_reads_requests_their_messages_and_clients(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    waiting = waiting_request(visit(server), "Technical support", server)
    api = integration(server, scopes=["read"])

    listed = api.get("/api/v1/requests")
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()] == [waiting, request_id]  # newest first
    assigned = api.get("/api/v1/requests", params={"status": "assigned"}).json()
    assert [(r["id"], r["assignee"]["name"]) for r in assigned] == [(request_id, anna.me["name"])]
    page = api.get("/api/v1/requests", params={"before_id": waiting, "limit": 1}).json()
    assert [r["id"] for r in page] == [request_id]

    detail = api.get(f"/api/v1/requests/{request_id}").json()
    assert detail["status"] == "assigned" and "accepted" in [h["kind"] for h in detail["history"]]
    messages = api.get(f"/api/v1/requests/{request_id}/messages").json()
    assert [m["body"] for m in messages if m["kind"] == "text"] == ["Здравствуйте, нужна помощь"]

    client_id = detail["client"]["id"]
    assert [
        r["id"] for r in api.get("/api/v1/requests", params={"client_id": client_id}).json()
    ] == [request_id]
    clients = api.get("/api/v1/clients").json()
    assert client_id in [c["id"] for c in clients]
    assert clients[0]["resource"]["name"] == "Demo website"
    client = api.get(f"/api/v1/clients/{client_id}").json()
    assert client["id"] == client_id and [r["id"] for r in client["requests"]] == [request_id]
    assert api.get(f"/api/v1/clients/{client_id}/contacts").json() == []

    for path in ("/api/v1/requests/999999", "/api/v1/requests/999999/messages"):
        missing = api.get(path)
        assert missing.status_code == 404 and missing.json()["code"] == "request_not_found"
    assert api.get("/api/v1/clients/999999").json()["code"] == "client_not_found"
    bad = api.get("/api/v1/requests", params={"status": "lost", "limit": 1000})
    assert bad.status_code == 422
    assert {e["loc"][-1] for e in bad.json()["errors"]} == {"status", "limit"}


def test_a_reply_goes_to_the_client_as_the_assignees(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    api = integration(server)
    sent = api.post(
        f"/api/v1/requests/{request_id}/messages",
        json={"body": "Заказ уже в пути", "client_message_id": "crm-1"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["author"]["name"] == anna.me["name"]
    # The team sees which integration sent it for Anna; the client does not.
    assert sent.json()["meta"]["via"] == "CRM"
    seen = [m for m in visitor.conversation()["messages"] if m["body"] == "Заказ уже в пути"]
    assert [m["author"]["kind"] for m in seen] == ["employee"]
    assert "via" not in seen[0]["meta"]
    # A retry with the same id is the same message, sent once.
    again = api.post(
        f"/api/v1/requests/{request_id}/messages",
        json={"body": "Заказ уже в пути", "client_message_id": "crm-1"},
    )
    assert again.status_code == 200 and again.json()["id"] == sent.json()["id"]
    history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    assert [m["body"] for m in history].count("Заказ уже в пути") == 1

    for body, field in [
        ({"body": ""}, "body"),
        ({}, "body"),
        ({"body": "x", "author": "me"}, "author"),
        ({"body": "x" * 10_001}, "body"),
    ]:
        refused = api.post(f"/api/v1/requests/{request_id}/messages", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["errors"][0]["loc"][-1] == field, refused.json()


def test_closing_and_transferring_need_an_assigned_request(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    api = integration(server)
    support = queue_ids(server)["Technical support"]
    moved = api.post(f"/api/v1/requests/{request_id}/transfer", json={"queue_id": support})
    assert moved.status_code == 204, moved.text
    detail = api.get(f"/api/v1/requests/{request_id}").json()
    assert (detail["status"], detail["queue"]["name"]) == ("waiting", "Technical support")
    moved_by = detail["history"][-1]
    assert (moved_by["kind"], moved_by["actor"]) == ("transferred_to_queue", anna.me["name"])
    assert moved_by["details"] == {"via": "CRM"}
    assert anna.http.get("/api/requests/mine").json() == []
    # Waiting, it has nobody responsible to act for.
    for path, body in [
        ("messages", {"body": "Ответ"}),
        ("close", None),
        ("transfer", {"queue_id": support}),
    ]:
        refused = api.post(f"/api/v1/requests/{request_id}/{path}", json=body)
        assert refused.status_code == 409, path
        assert refused.json()["code"] == "api_request_not_assigned"

    _, other_visitor, second = taken(server, "anna")
    foreign = other_resource(server)
    refused = api.post(
        f"/api/v1/requests/{second}/transfer", json={"queue_id": foreign["queue_id"]}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "queue_other_resource"
    assert api.post(f"/api/v1/requests/{second}/transfer", json={}).status_code == 422
    assert api.post(f"/api/v1/requests/{second}/close").status_code == 204
    closed = api.get(f"/api/v1/requests/{second}").json()
    assert closed["status"] == "closed"
    assert [(h["kind"], h["details"]) for h in closed["history"]][-1] == ("closed", {"via": "CRM"})
    assert other_visitor.conversation()["request"] is None
    assert api.post("/api/v1/requests/999999/close").status_code == 404


def test_contacts_are_added_and_changed(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    api = integration(server)
    client_id = api.get(f"/api/v1/requests/{request_id}").json()["client"]["id"]
    added = api.post(
        f"/api/v1/clients/{client_id}/contacts", json={"kind": "email", "value": " a@shop.example "}
    )
    assert added.status_code == 201, added.text
    contact = added.json()
    assert (contact["kind"], contact["value"], contact["is_hidden"]) == (
        "email",
        "a@shop.example",
        False,
    )
    # The employee handling the client sees it.
    seen = anna.http.get(f"/api/clients/{client_id}").json()["contacts"]
    assert [c["value"] for c in seen] == ["a@shop.example"]

    changed = api.patch(
        f"/api/v1/clients/{client_id}/contacts/{contact['id']}",
        json={"kind": "phone", "value": "+7 900 123-45-67"},
    )
    assert changed.status_code == 200 and changed.json()["value"] == "+7 900 123-45-67"
    hidden = api.patch(
        f"/api/v1/clients/{client_id}/contacts/{contact['id']}", json={"is_hidden": True}
    )
    assert hidden.json()["is_hidden"] is True and hidden.json()["kind"] == "phone"
    assert [c["is_hidden"] for c in api.get(f"/api/v1/clients/{client_id}/contacts").json()] == [
        True
    ]

    for body, field in (
        ({"kind": "email", "value": "not an address"}, "value"),
        ({"kind": "phone", "value": "call me"}, "value"),
        ({"kind": "fax", "value": "123"}, "kind"),
        ({"kind": "phone"}, "value"),
        ({"kind": "other", "value": "x", "hidden": True}, "hidden"),
    ):
        refused = api.post(f"/api/v1/clients/{client_id}/contacts", json=body)
        assert refused.status_code == 422, body
        assert [e["loc"][-1] for e in refused.json()["errors"]] == [field], refused.json()
    refused = api.patch(
        f"/api/v1/clients/{client_id}/contacts/{contact['id']}", json={"value": "a@b.example"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"][-1] == "value"
    refused = api.patch(
        f"/api/v1/clients/{client_id}/contacts/{contact['id']}", json={"kind": "email"}
    )
    assert refused.status_code == 422
    assert (
        api.patch(f"/api/v1/clients/{client_id}/contacts/999999", json={"is_hidden": True}).json()[
            "code"
        ]
        == "contact_not_found"
    )
    other_client = visit(server).session["client"]["id"]
    elsewhere = api.patch(
        f"/api/v1/clients/{other_client}/contacts/{contact['id']}", json={"is_hidden": False}
    )
    assert elsewhere.status_code == 404
    unknown = api.post("/api/v1/clients/999999/contacts", json={"kind": "other", "value": "x"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "client_not_found"


def test_a_token_held_to_a_resource_sees_only_that_resource(server: LiveServer) -> None:
    _, visitor, request_id = taken(server, "anna")
    client_id = visitor.session["client"]["id"]
    foreign = other_resource(server)
    held = integration(server, resource_id=foreign["id"])
    assert held.get("/api/v1/requests").json() == []
    assert held.get("/api/v1/clients").json() == []
    for method, path, body in [
        ("GET", f"/api/v1/requests/{request_id}", None),
        ("GET", f"/api/v1/requests/{request_id}/messages", None),
        ("POST", f"/api/v1/requests/{request_id}/messages", {"body": "x"}),
        ("POST", f"/api/v1/requests/{request_id}/close", None),
        ("POST", f"/api/v1/requests/{request_id}/transfer", {"queue_id": foreign["queue_id"]}),
        ("GET", f"/api/v1/clients/{client_id}", None),
        ("GET", f"/api/v1/clients/{client_id}/contacts", None),
        ("POST", f"/api/v1/clients/{client_id}/contacts", {"kind": "other", "value": "x"}),
        ("GET", f"/api/v1/requests?resource_id={demo_site(server)['id']}", None),
    ]:
        refused = held.request(method, path, json=body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["code"] == "api_token_other_resource"
    # Unknown ids are unknown whatever the token's resource.
    assert held.get("/api/v1/requests/999999").status_code == 404
    # The demo site's own token sees its request, and nothing of the other site.
    site_token = integration(server, resource_id=demo_site(server)["id"])
    assert [r["id"] for r in site_token.get("/api/v1/requests").json()] == [request_id]
    assert (
        site_token.get("/api/v1/requests", params={"resource_id": foreign["id"]}).status_code == 403
    )


def test_the_public_api_is_documented(server: LiveServer) -> None:
    document = server.client().get("/openapi.json").json()
    tag = next(t for t in document["tags"] if t["name"] == "Public API")
    assert "Bearer" in tag["description"]
    public = {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/api/v1/")
    }
    assert len(public) == 11
    for (method, path), operation in public.items():
        assert operation["tags"] == ["Public API"], (method, path)
        assert operation.get("description") or operation.get("summary"), (method, path)
        assert operation["security"] == [{"ApiToken": []}], (method, path)
    assert document["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"


def test_a_reply_racing_a_handover_goes_out_for_whoever_holds_the_request(
    server: LiveServer,
) -> None:
    # The API reads the assignee, then acts for them: a handover in between must not turn the
    # reply into a refusal of the former assignee (404/403), it is sent for the new one.
    api = integration(server)
    answers: list[int] = []
    for round_ in range(4):
        anna, _, request_id = taken(server, "anna")
        options = anna.http.get(f"/api/requests/{request_id}/transfer-options").json()
        tech = next(g for g in options["groups"] if g["name"] == "Technical specialists")
        olga = next(m for m in tech["members"] if m["name"] == "Ольга Иванова")

        def reply(index: int, request_id: int = request_id, round_: int = round_) -> int:
            return api.post(
                f"/api/v1/requests/{request_id}/messages",
                json={"body": f"Ответ {index}", "client_message_id": f"race-{round_}-{index}"},
            ).status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            sending = pool.map(reply, range(16))
            handed = anna.http.post(
                f"/api/requests/{request_id}/transfer-employee",
                json={"group_id": tech["id"], "employee_id": olga["id"]},
            )
            answers += list(sending)
        assert handed.status_code == 204, handed.text
    assert set(answers) == {201}, answers
