"""The widget's JavaScript API on the server: IMP.setUser (verified by the site's hash, or kept
as the visitor's unverified word) and IMP.setAttributes."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.api.test_requests import queue_ids
from tests.harness import LiveServer, Session
from tests.widget import Visitor, demo_site, identity_hash, identity_secret, set_user, visit


def writes_to_sales(server: LiveServer, visitor: Visitor, text: str) -> int:
    """The visitor's message in a request waiting in Sales (which Anna serves)."""
    visitor.pick(queue_ids(server)["Sales"])
    response = visitor.send(text)
    assert response.status_code == 201, response.text
    return int(visitor.conversation()["request"]["id"])


def client_card(employee: Session, client_id: int) -> dict[str, Any]:
    response = employee.http.get(f"/api/clients/{client_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def bodies(visitor: Visitor) -> list[str]:
    """What people wrote in the visitor's history (not the system's lines)."""
    return [m["body"] for m in visitor.conversation()["messages"] if m["kind"] == "text"]


def test_only_administrators_read_and_regenerate_the_identity_secret(server: LiveServer) -> None:
    site = demo_site(server)
    address = f"/api/admin/resources/{site['id']}/identity-secret"
    admin = server.login("admin")
    first = admin.http.get(address)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    secret = first.json()["secret"]
    assert len(secret) == 64 and int(secret, 16) >= 0
    assert admin.http.get(address).json()["secret"] == secret
    # Nowhere else: not in the resource list every administrator's page reads, nor in the
    # events every employee receives about resources.
    assert secret not in admin.http.get("/api/admin/resources").text

    visitor = visit(server)
    for who in (server.login("anna").http, server.login("olga").http, visitor.http):
        assert who.get(address).status_code in (401, 403)
        assert who.post(address).status_code in (401, 403)
    assert server.client().get(address).status_code == 401

    regenerated = admin.http.post(address)
    assert regenerated.status_code == 200, regenerated.text
    assert regenerated.json()["secret"] != secret
    assert admin.http.get(address).json()["secret"] == regenerated.json()["secret"]
    assert admin.http.get("/api/admin/resources/999999/identity-secret").status_code == 404


def test_a_valid_hash_verifies_the_visitor_and_the_site_names_them(server: LiveServer) -> None:
    secret = identity_secret(server)
    anna = server.login("anna")
    visitor = visit(server)
    client_id = visitor.session["client"]["id"]
    writes_to_sales(server, visitor, "Здравствуйте")
    outcome = set_user(
        visitor,
        id="user-42",
        name="Ирина Петрова",
        email="irina@example.com",
        phone="+7 900 123-45-67",
        hash=identity_hash(secret, "user-42"),
    )
    # A visitor nobody verified before becomes that person, with what they wrote so far.
    assert outcome == {"verified": True, "session": None}
    card = client_card(anna, client_id)
    assert card["verified"] is True
    assert card["verified_id"] == "user-42"
    assert card["display_name"] == "Ирина Петрова"
    assert card["unverified"] is None
    contacts = {(c["kind"], c["value"]) for c in card["contacts"]}
    assert contacts == {("email", "irina@example.com"), ("phone", "+7 900 123-45-67")}
    # A number id is hashed as JavaScript's String(id) writes it; the hash in any case.
    other = visit(server)
    assert set_user(other, id=77, hash=identity_hash(secret, "77").upper())["verified"] is True


def test_a_forged_hash_neither_verifies_nor_joins_anyone(server: LiveServer) -> None:
    secret = identity_secret(server)
    anna = server.login("anna")
    owner = visit(server)
    set_user(owner, id="user-42", hash=identity_hash(secret, "user-42"))
    writes_to_sales(server, owner, "Мой секретный заказ")

    intruder = visit(server)
    intruder_id = intruder.session["client"]["id"]
    forgeries = [
        identity_hash("guessed-secret", "user-42"),
        identity_hash(secret, "user-43"),
        "0" * 64,
        None,
    ]
    for forged in forgeries:
        outcome = set_user(intruder, id="user-42", name="Ирина", email="i@example.com", hash=forged)
        assert outcome == {"verified": False, "session": None}
        assert intruder.session["client"]["id"] == intruder_id
        assert "Мой секретный заказ" not in bodies(intruder)

    writes_to_sales(server, intruder, "Покажите заказ")
    card = client_card(anna, intruder_id)
    assert card["verified"] is False
    assert card["verified_id"] is None
    # Kept as the visitor's own word, not as the client's name or contacts.
    assert card["unverified"] == {
        "id": "user-42",
        "name": "Ирина",
        "email": "i@example.com",
        "phone": "",
    }
    assert card["display_name"] == ""
    assert card["contacts"] == []
    assert [r["id"] for r in card["requests"]] == [intruder.conversation()["request"]["id"]]


def test_a_second_browser_with_the_same_id_and_hash_reaches_the_same_client_and_history(
    server: LiveServer,
) -> None:
    secret = identity_secret(server)
    user = {"id": "user-42", "name": "Ирина", "hash": identity_hash(secret, "user-42")}
    anna = server.login("anna")
    laptop = visit(server)
    set_user(laptop, **user)
    request_id = writes_to_sales(server, laptop, "Вопрос с ноутбука")
    assert anna.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    answered = anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Ответ"})
    assert answered.status_code == 201, answered.text

    phone = visit(server, address="127.0.0.2")
    anonymous_token = phone.token
    outcome = set_user(phone, **user)
    assert outcome["verified"] is True
    assert outcome["session"]["client"]["id"] == laptop.session["client"]["id"]
    assert outcome["session"]["request"]["id"] == request_id
    assert bodies(phone)[-2:] == ["Вопрос с ноутбука", "Ответ"]
    # The phone's anonymous client is left behind: its token no longer works.
    stale = server.client()
    stale.headers["Authorization"] = f"Bearer {anonymous_token}"
    assert stale.get("/api/widget/conversation").status_code == 401
    # And a page load with it starts a new anonymous visitor, with nothing of the person's.
    again = visit(server, token=anonymous_token)
    assert again.session["client"]["id"] not in (
        laptop.session["client"]["id"],
        outcome["session"]["client"]["id"],
    )
    assert again.conversation()["messages"] == []

    # The phone writes into the same request, which Anna is answering.
    assert phone.send("Пишу с телефона").status_code == 201
    history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    assert "Пишу с телефона" in [m["body"] for m in history]
    # Calling setUser again on every page changes nothing.
    assert set_user(phone, **user) == {"verified": True, "session": None}


def test_an_anonymous_visitors_open_request_joins_the_verified_client(
    server: LiveServer,
) -> None:
    secret = identity_secret(server)
    user = {"id": "user-42", "hash": identity_hash(secret, "user-42")}
    known = visit(server)
    set_user(known, **user)
    person = known.session["client"]["id"]

    anna, emma = server.login("anna"), server.login("emma")  # Emma does not serve Sales
    browser = visit(server)
    request_id = writes_to_sales(server, browser, "Написал до входа на сайт")
    browser.http.post("/api/widget/attributes", json={"attributes": {"plan": "pro"}})
    with anna.socket() as anna_tab, emma.socket() as emma_tab:
        outcome = set_user(browser, **user)
        assert outcome["session"]["client"]["id"] == person
        card = anna_tab.receive_until(
            lambda f: f.get("type") == "request.updated" and f["request"]["id"] == request_id
        )["request"]
        assert card["client"]["id"] == person
        client = anna_tab.event("client.updated")["client"]
        assert client["id"] == person and client["attributes"] == {"plan": "pro"}
        emma_tab.assert_silent("request.updated")
        emma_tab.assert_silent("client.updated")
    assert bodies(browser) == ["Написал до входа на сайт"]
    assert client_card(anna, person)["requests"][0]["id"] == request_id
    assert bodies(known) == ["Написал до входа на сайт"]


def test_another_person_in_a_verified_browser_sees_nothing_of_the_first(
    server: LiveServer,
) -> None:
    secret = identity_secret(server)
    browser = visit(server)
    set_user(browser, id="user-42", hash=identity_hash(secret, "user-42"))
    writes_to_sales(server, browser, "Сообщение первого")
    first = browser.session["client"]["id"]

    # Someone else logs in on the same computer: proven, or only said.
    outcome = set_user(browser, id="user-43", hash=identity_hash(secret, "user-43"))
    assert outcome["verified"] is True
    assert outcome["session"]["client"]["id"] != first
    assert bodies(browser) == []
    set_user(browser, id="user-42", hash=identity_hash(secret, "user-42"))
    assert browser.session["client"]["id"] == first
    outcome = set_user(browser, id="user-44", name="Кто-то")
    assert outcome["verified"] is False
    assert outcome["session"]["client"]["id"] != first
    assert bodies(browser) == []


def test_regenerating_the_secret_voids_old_hashes_and_verified_sessions(
    server: LiveServer,
) -> None:
    old_secret = identity_secret(server)
    old_hash = identity_hash(old_secret, "user-42")
    verified = visit(server)
    set_user(verified, id="user-42", hash=old_hash)
    writes_to_sales(server, verified, "До смены секрета")
    person = verified.session["client"]["id"]

    admin = server.login("admin")
    site = demo_site(server)
    admin.http.post(f"/api/admin/resources/{site['id']}/identity-secret")
    new_secret = identity_secret(server)

    # The old hash verifies no one any more, not even a new browser.
    newcomer = visit(server)
    assert set_user(newcomer, id="user-42", hash=old_hash)["verified"] is False
    assert bodies(newcomer) == []
    # Whoever held a verified session must be vouched for again.
    assert verified.http.get("/api/widget/conversation").status_code == 401
    reloaded = visit(server, token=verified.token)
    assert reloaded.session["client"]["id"] != person
    assert set_user(reloaded, id="user-42", hash=old_hash)["verified"] is False
    outcome = set_user(reloaded, id="user-42", hash=identity_hash(new_secret, "user-42"))
    assert outcome["session"]["client"]["id"] == person
    assert bodies(reloaded) == ["До смены секрета"]


def test_attributes_are_stored_and_shown_to_those_who_see_the_client(
    server: LiveServer,
) -> None:
    anna, emma = server.login("anna"), server.login("emma")
    visitor = visit(server)
    client_id = visitor.session["client"]["id"]
    writes_to_sales(server, visitor, "Вопрос о тарифе")
    values = {"plan": "pro", "seats": 5, "trial": False, "balance": 12.5, "город": "Казань"}
    with anna.socket() as anna_tab, emma.socket() as emma_tab:
        response = visitor.http.post("/api/widget/attributes", json={"attributes": values})
        assert response.status_code == 200, response.text
        assert response.json() == {"attributes": values}
        assert anna_tab.event("client.updated")["client"]["attributes"] == values
        emma_tab.assert_silent("client.updated")
    assert client_card(anna, client_id)["attributes"] == values
    assert emma.http.get(f"/api/clients/{client_id}").status_code == 404

    # Later calls change the keys they name; null removes one.
    response = visitor.http.post(
        "/api/widget/attributes", json={"attributes": {"seats": 6, "trial": None}}
    )
    assert response.json()["attributes"] == {
        "plan": "pro",
        "seats": 6,
        "balance": 12.5,
        "город": "Казань",
    }
    # At most 50 in all, whatever the calls.
    many = {f"key{i}": i for i in range(47)}
    refused = visitor.http.post("/api/widget/attributes", json={"attributes": many})
    assert refused.status_code == 422
    assert refused.json()["code"] == "too_many_attributes"
    assert refused.json()["params"] == {"max": 50}
    assert len(client_card(anna, client_id)["attributes"]) == 4


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("identity", {}, "id"),
        ("identity", {"id": ""}, "id"),
        ("identity", {"id": "x" * 256}, "id"),
        ("identity", {"id": True}, "id"),
        ("identity", {"id": {"nested": 1}}, "id"),
        ("identity", {"id": "1", "name": "x" * 121}, "name"),
        ("identity", {"id": "1", "email": "not an address"}, "email"),
        ("identity", {"id": "1", "phone": "call me"}, "phone"),
        ("identity", {"id": "1", "hash": "zz" * 32}, "hash"),
        ("identity", {"id": "1", "hash": "ab"}, "hash"),
        ("identity", {"id": "1", "role": "admin"}, "role"),
        ("identity", {"id": "1\x00"}, "id"),
        ("attributes", {}, "attributes"),
        ("attributes", {"attributes": ["plan"]}, "attributes"),
        ("attributes", {"attributes": {"plan": {"nested": "value"}}}, "plan"),
        ("attributes", {"attributes": {"plan": ["a", "b"]}}, "plan"),
        ("attributes", {"attributes": {"plan": "x" * 501}}, "plan"),
        ("attributes", {"attributes": {"k" * 65: 1}}, "attributes"),
        ("attributes", {"attributes": {"": 1}}, "attributes"),
        ("attributes", {"attributes": {"a<b>": 1}}, "attributes"),
        ("attributes", {"attributes": {"n": 2**60}}, "n"),
        ("attributes", {"attributes": {f"k{i}": i for i in range(51)}}, "attributes"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(
    server: LiveServer, path: str, body: dict[str, Any], field: str
) -> None:
    visitor = visit(server)
    response = visitor.http.post(f"/api/widget/{path}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid"
    assert field in response.json()["detail"]


def test_unreadable_bodies_and_missing_tokens_are_refused(server: LiveServer) -> None:
    visitor = visit(server)
    for path in ("identity", "attributes"):
        for raw in (b"{", b"[]", b'{"attributes": {"n": NaN}}', b'{"id": "1", "hash": Infinity}'):
            response = visitor.http.post(
                f"/api/widget/{path}", content=raw, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 422, (path, raw, response.text)
        anonymous = server.client().post(f"/api/widget/{path}", json={"id": "1"})
        assert anonymous.status_code == 401
    assert json.loads(visitor.http.get("/api/widget/conversation").text)["messages"] == []


def test_two_browsers_verifying_a_new_person_at_once_become_one_client(
    server: LiveServer,
) -> None:
    secret = identity_secret(server)
    user = {"id": "user-new", "hash": identity_hash(secret, "user-new")}
    browsers = [visit(server, address=f"127.0.0.{n}") for n in (3, 4, 5, 6)]
    start = threading.Barrier(len(browsers))
    outcomes: list[dict[str, Any]] = []

    def verify(browser: Visitor) -> None:
        start.wait()
        outcomes.append(set_user(browser, **user))

    threads = [threading.Thread(target=verify, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == len(browsers)
    assert all(outcome["verified"] for outcome in outcomes)
    assert len({b.session["client"]["id"] for b in browsers}) == 1
