"""Tags: kept by administrators, put on requests by the employee handling them, found in search."""

from __future__ import annotations

import pytest

from tests.api.test_requests import taken
from tests.harness import LiveServer, Session


def new_tag(admin: Session, name: str, color: str = "#e03131") -> dict:
    response = admin.http.post("/api/admin/tags", json={"name": name, "color": color})
    assert response.status_code == 201, response.text
    return response.json()


def test_administrators_keep_the_tag_list(server: LiveServer) -> None:
    admin, anna = server.login("admin"), server.login("anna")
    refund = new_tag(admin, "  Возврат   денег ", "#E03131")
    assert refund == {"id": refund["id"], "name": "Возврат денег", "color": "#e03131"}
    vip = new_tag(admin, "VIP", "#1971c2")
    assert [t["name"] for t in anna.http.get("/api/tags").json()] == ["VIP", "Возврат денег"]

    clash = admin.http.post("/api/admin/tags", json={"name": "возврат ДЕНЕГ", "color": "#000000"})
    assert clash.status_code == 422
    assert clash.json()["code"] == "tag_name_taken"
    assert clash.json()["params"] == {"name": "возврат ДЕНЕГ"}
    renamed = admin.http.put(
        f"/api/admin/tags/{vip['id']}", json={"name": "VIP!", "color": "#fab005"}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "VIP!"
    taken_by_other = admin.http.put(
        f"/api/admin/tags/{vip['id']}", json={"name": "Возврат денег", "color": "#fab005"}
    )
    assert taken_by_other.status_code == 422

    refused = anna.http.post("/api/admin/tags", json={"name": "Моё", "color": "#000000"})
    assert refused.status_code == 403
    assert anna.http.delete(f"/api/admin/tags/{vip['id']}").status_code == 403
    assert admin.http.delete(f"/api/admin/tags/{vip['id']}").status_code == 204
    assert admin.http.delete(f"/api/admin/tags/{vip['id']}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"name": "   ", "color": "#000000"}, "tag_name_empty"),
        ({"name": "я" * 41, "color": "#000000"}, "tag_name_too_long"),
        ({"name": "Срочно", "color": "red"}, "tag_color_invalid"),
        ({"name": "Срочно", "color": "#12345"}, "tag_color_invalid"),
    ],
)
def test_bad_tags_are_refused_naming_the_problem(
    server: LiveServer, payload: dict, code: str
) -> None:
    admin = server.login("admin")
    response = admin.http.post("/api/admin/tags", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert admin.http.get("/api/tags").json() == []


def test_the_assignee_tags_a_request_and_it_shows_on_its_card(server: LiveServer) -> None:
    admin = server.login("admin")
    refund, vip = new_tag(admin, "Возврат"), new_tag(admin, "VIP", "#1971c2")
    anna, visitor, request_id = taken(server, "anna")
    with anna.socket() as workspace:
        card = anna.http.put(
            f"/api/requests/{request_id}/tags", json={"tag_ids": [vip["id"], refund["id"]]}
        )
        assert card.status_code == 200, card.text
        assert [t["name"] for t in card.json()["tags"]] == ["VIP", "Возврат"]
        updated = workspace.receive_until(
            lambda f: f.get("type") == "request.updated" and f["request"]["id"] == request_id
        )
        assert [t["id"] for t in updated["request"]["tags"]] == [vip["id"], refund["id"]]
        # A client's new message changes no tags: its card goes without them (kept as known).
        visitor.send("Ещё вопрос")
        after_message = workspace.receive_until(
            lambda f: (
                f.get("type") == "request.updated"
                and (f["request"]["last_message"] or {}).get("body") == "Ещё вопрос"
            )
        )
        assert after_message["request"]["tags"] is None
    mine = anna.http.get("/api/requests/mine").json()
    assert [[t["name"] for t in r["tags"]] for r in mine] == [["VIP", "Возврат"]]

    # Removing one leaves the other; an unknown tag changes nothing.
    anna.http.put(f"/api/requests/{request_id}/tags", json={"tag_ids": [refund["id"]]})
    unknown = anna.http.put(
        f"/api/requests/{request_id}/tags", json={"tag_ids": [refund["id"], 99999]}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "tag_not_found"
    tags_now = anna.http.get("/api/requests/mine").json()[0]["tags"]
    assert [t["name"] for t in tags_now] == ["Возврат"]

    # Only the employee handling the request tags it.
    boris = server.login("boris")
    refused = boris.http.put(f"/api/requests/{request_id}/tags", json={"tag_ids": []})
    assert refused.status_code == 404
    # A tag that is deleted comes off the request.
    admin.http.delete(f"/api/admin/tags/{refund['id']}")
    assert anna.http.get("/api/requests/mine").json()[0]["tags"] == []


def test_search_finds_requests_by_tag(server: LiveServer) -> None:
    admin = server.login("admin")
    refund = new_tag(admin, "Возврат")
    anna, _, tagged = taken(server, "anna")
    _, _, untagged = taken(server, "anna")
    anna.http.put(f"/api/requests/{tagged}/tags", json={"tag_ids": [refund["id"]]})
    found = anna.http.get("/api/search", params={"q": "возвр"}).json()["requests"]
    assert [(r["id"], r["matched_in"], r["matched"]) for r in found] == [(tagged, "tag", "Возврат")]
    assert [t["name"] for t in found[0]["tags"]] == ["Возврат"]
    assert untagged not in [r["id"] for r in found]
    # Emma serves neither request's queue: she finds nothing.
    assert (
        server.login("emma").http.get("/api/search", params={"q": "возвр"}).json()["requests"] == []
    )
