"""Canned replies: each employee's own, and shared ones the administrators keep."""

from __future__ import annotations

import pytest

from tests.harness import LiveServer, Session


def create(session: Session, code: str, text: str, **extra: object) -> dict:
    response = session.http.post("/api/replies", json={"code": code, "text": text, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def codes(session: Session) -> list[str]:
    response = session.http.get("/api/replies")
    assert response.status_code == 200, response.text
    return [r["code"] for r in response.json()]


def test_personal_replies_are_their_owners_alone(server: LiveServer) -> None:
    anna, boris = server.login("anna"), server.login("boris")
    mine = create(anna, "Hello", "  Здравствуйте, {client}! Меня зовут {employee}.  ")
    assert mine == {
        "id": mine["id"],
        "code": "hello",  # codes are one word, kept lowercase
        "text": "Здравствуйте, {client}! Меня зовут {employee}.",
        "shared": False,
        "resource_id": None,
        "editable": True,
    }
    assert codes(anna) == ["hello"]
    assert codes(boris) == []
    # Boris may use the same code for his own text; Anna may not twice.
    create(boris, "hello", "Добрый день!")
    taken = anna.http.post("/api/replies", json={"code": "HELLO", "text": "ещё раз"})
    assert taken.status_code == 422
    assert taken.json()["code"] == "reply_code_taken"
    assert taken.json()["params"] == {"code": "hello"}

    # Someone else's reply does not exist for them.
    for method, body in (("PUT", {"code": "x", "text": "y"}), ("DELETE", None)):
        refused = boris.http.request(method, f"/api/replies/{mine['id']}", json=body)
        assert refused.status_code == 404 and refused.json()["code"] == "reply_not_found"

    changed = anna.http.put(
        f"/api/replies/{mine['id']}", json={"code": "hi", "text": "Привет, {client}!"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["code"], changed.json()["text"]) == ("hi", "Привет, {client}!")
    assert anna.http.delete(f"/api/replies/{mine['id']}").status_code == 204
    assert codes(anna) == []


def test_shared_replies_are_kept_by_administrators_for_everyone_or_one_resource(
    server: LiveServer,
) -> None:
    admin, anna = server.login("admin"), server.login("anna")
    site = admin.http.get("/api/admin/resources").json()[0]
    other = admin.http.post("/api/admin/resources", json={"name": "Other site"}).json()
    everyone = create(admin, "thanks", "Спасибо за обращение!", shared=True)
    for_site = create(admin, "delivery", "Доставка 2–3 дня.", shared=True, resource_id=site["id"])
    create(admin, "refund", "Возврат в течение 14 дней.", shared=True, resource_id=other["id"])
    assert everyone["shared"] and everyone["resource_id"] is None
    assert for_site["resource_id"] == site["id"]

    # Anna serves the demo site's queues, not the other site's.
    replies = {r["code"]: r for r in anna.http.get("/api/replies").json()}
    assert sorted(replies) == ["delivery", "thanks"]
    assert not replies["thanks"]["editable"]
    assert sorted(codes(admin)) == ["delivery", "refund", "thanks"]

    # The same code may name one text for everyone and another for one resource.
    create(admin, "thanks", "Спасибо, что выбрали нас!", shared=True, resource_id=site["id"])
    again = admin.http.post(
        "/api/replies", json={"code": "thanks", "text": "дубль", "shared": True}
    )
    assert again.status_code == 422 and again.json()["code"] == "reply_code_taken"

    refused = anna.http.post("/api/replies", json={"code": "x", "text": "y", "shared": True})
    assert refused.status_code == 403 and refused.json()["code"] == "admins_only"
    for method, body in (("PUT", {"code": "x", "text": "y"}), ("DELETE", None)):
        response = anna.http.request(method, f"/api/replies/{everyone['id']}", json=body)
        assert response.status_code == 403
    unknown = admin.http.post(
        "/api/replies", json={"code": "x", "text": "y", "shared": True, "resource_id": 99999}
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "resource_not_found"


@pytest.mark.parametrize(
    ("payload", "code", "params"),
    [
        ({"code": "  ", "text": "текст"}, "reply_code_empty", None),
        ({"code": "два слова", "text": "текст"}, "reply_code_format", None),
        ({"code": "/hello", "text": "текст"}, "reply_code_format", None),
        ({"code": "a" * 33, "text": "текст"}, "reply_code_too_long", {"max": 32}),
        ({"code": "hello", "text": " \n "}, "reply_text_empty", None),
        ({"code": "hello", "text": "я" * 4001}, "reply_text_too_long", {"max": 4000}),
        (
            {"code": "hello", "text": "текст", "resource_id": 1},
            "reply_resource_shared_only",
            None,
        ),
    ],
)
def test_bad_replies_are_refused_naming_the_problem(
    server: LiveServer, payload: dict, code: str, params: dict | None
) -> None:
    anna = server.login("anna")
    response = anna.http.post("/api/replies", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    if params:
        assert response.json()["params"] == params
    assert codes(anna) == []


def test_codes_in_any_alphabet_and_the_longest_text_fit(server: LiveServer) -> None:
    anna = server.login("anna")
    create(anna, "доставка_2-3", "я" * 4000)
    assert codes(anna) == ["доставка_2-3"]
    assert server.login("boris").http.get("/api/replies").json() == []
    assert anna.http.post("/api/replies", json={"code": "x", "text": None}).status_code == 422
