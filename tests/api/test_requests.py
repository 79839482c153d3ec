from __future__ import annotations

import threading
import time

import pytest

from tests.harness import LiveServer, Session
from tests.widget import Visitor, demo_site, topic_time_runs_out, visit


def queue_ids(server: LiveServer) -> dict[str, int]:
    return {q["name"]: q["id"] for q in demo_site(server)["queues"]}


def waiting_request(visitor: Visitor, topic: str | None, server: LiveServer) -> int:
    """A request waiting in a queue: via a picked topic, or in the default queue."""
    if topic:
        visitor.pick(queue_ids(server)[topic])
    response = visitor.send("Здравствуйте, нужна помощь")
    assert response.status_code == 201, response.text
    if not topic:
        set_topic_time(server, 0)
    state = visitor.conversation()["request"]
    assert state["status"] in ("waiting", "choosing")
    return int(state["id"])


def set_topic_time(server: LiveServer, seconds: int) -> None:
    admin = server.login("admin")
    site = demo_site(server)
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"topic_choice_seconds": seconds})


def taken(server: LiveServer, who: str, topic: str = "Sales") -> tuple[Session, Visitor, int]:
    employee = server.login(who)
    visitor = visit(server)
    request_id = waiting_request(visitor, topic, server)
    assert employee.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    return employee, visitor, request_id


def test_session_offers_topics_and_remembers_the_visitor(server: LiveServer) -> None:
    visitor = visit(server)
    topics = [t["name"] for t in visitor.session["resource"]["topics"]]
    assert topics == ["Sales", "Technical support"]  # the default queue is not offered
    again = visit(server, token=visitor.token)
    assert again.session["client"]["id"] == visitor.session["client"]["id"]


def test_forged_token_is_refused(server: LiveServer) -> None:
    visitor = visit(server)
    forged = visitor.token[:-3] + ("aaa" if not visitor.token.endswith("aaa") else "bbb")
    http = server.client()
    http.headers["Authorization"] = f"Bearer {forged}"
    response = http.get("/api/widget/conversation")
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_unknown_site_cannot_embed_the_widget(server: LiveServer) -> None:
    http = server.client()
    key = demo_site(server)["public_key"]
    response = http.post(
        "/api/widget/session", json={"public_key": key, "embedding_origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "This chat is not enabled for this website."


def test_message_without_topic_waits_for_a_choice_then_default_queue(server: LiveServer) -> None:
    set_topic_time(server, 600)
    visitor = visit(server)
    assert visitor.send("Привет").status_code == 201
    state = visitor.conversation()["request"]
    assert state["status"] == "choosing" and state["topic_due_at"]
    topic_time_runs_out(server, "Привет")
    deadline = time.monotonic() + 10
    while visitor.conversation()["request"]["status"] == "choosing":
        assert time.monotonic() < deadline, "topic timer did not fire"
        time.sleep(0.3)
    state = visitor.conversation()["request"]
    assert state["status"] == "waiting" and state["queue_name"] == "General questions"
    messages = visitor.conversation()["messages"]
    assert messages[-1]["kind"] == "system" and "подождите" in messages[-1]["body"]
    anna = server.login("anna")
    assert [r["queue"]["name"] for r in anna.http.get("/api/requests/queue").json()] == [
        "General questions"
    ]
    # Emma serves only Technical support: she does not see it.
    assert server.login("emma").http.get("/api/requests/queue").json() == []


def test_topic_picked_while_choosing_goes_to_that_queue(server: LiveServer) -> None:
    visitor = visit(server)
    visitor.send("Вопрос по заказу")
    response = visitor.pick(queue_ids(server)["Technical support"])
    assert response.json()["status"] == "waiting"
    assert response.json()["queue_name"] == "Technical support"
    emma_queue = server.login("emma").http.get("/api/requests/queue").json()
    assert len(emma_queue) == 1 and emma_queue[0]["page_url"] == "http://shop.example/catalog"
    assert emma_queue[0]["browser"].startswith("Chrome 130")


def test_topic_not_offered_is_refused(server: LiveServer) -> None:
    visitor = visit(server)
    response = visitor.pick(queue_ids(server)["General questions"])
    assert response.status_code == 422
    assert response.json()["detail"] == "Please choose one of the offered topics."


def test_client_who_picked_a_queue_goes_straight_there_next_time(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna", "Technical support")
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    visitor.send("И ещё вопрос")
    state = visitor.conversation()["request"]
    assert state["id"] != request_id
    assert (state["status"], state["queue_name"]) == ("waiting", "Technical support")


def test_client_who_did_not_pick_starts_with_a_choice_again(server: LiveServer) -> None:
    set_topic_time(server, 0)
    visitor = visit(server)
    visitor.send("Первый вопрос")
    anna = server.login("anna")
    (card,) = anna.http.get("/api/requests/queue").json()
    anna.http.post(f"/api/requests/{card['id']}/accept")
    anna.http.post(f"/api/requests/{card['id']}/close")
    set_topic_time(server, 30)
    visitor.send("Второй вопрос")
    assert visitor.conversation()["request"]["status"] == "choosing"


def test_queue_lists_oldest_first_and_decline_hides_for_me_only(server: LiveServer) -> None:
    first, second = visit(server), visit(server)
    first_id = waiting_request(first, "Sales", server)
    second_id = waiting_request(second, "Sales", server)
    anna, boris = server.login("anna"), server.login("boris")
    assert [r["id"] for r in anna.http.get("/api/requests/queue").json()] == [first_id, second_id]
    assert anna.http.post(f"/api/requests/{first_id}/decline").status_code == 204
    assert [r["id"] for r in anna.http.get("/api/requests/queue").json()] == [second_id]
    assert [r["id"] for r in boris.http.get("/api/requests/queue").json()] == [first_id, second_id]


def test_accept_makes_me_responsible(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    mine = anna.http.get("/api/requests/mine").json()
    assert [r["id"] for r in mine] == [request_id]
    assert mine[0]["assignee"]["name"] == "Анна Смирнова"
    assert server.login("boris").http.get("/api/requests/queue").json() == []
    assert visitor.conversation()["request"]["operator_name"] == "Анна Смирнова"


def test_accept_race_has_one_winner(server: LiveServer) -> None:
    visitor = visit(server)
    request_id = waiting_request(visitor, "Sales", server)
    anna, boris = server.login("anna"), server.login("boris")
    results: dict[str, int] = {}
    start = threading.Barrier(2)

    def accept(session: Session, who: str) -> None:
        start.wait()
        results[who] = session.http.post(f"/api/requests/{request_id}/accept").status_code

    threads = [
        threading.Thread(target=accept, args=(s, w)) for s, w in ((anna, "anna"), (boris, "boris"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [200, 409]
    owners = [len(s.http.get("/api/requests/mine").json()) for s in (anna, boris)]
    assert sorted(owners) == [0, 1]


def test_accepting_a_taken_or_closed_request_is_refused(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    boris = server.login("boris")
    response = boris.http.post(f"/api/requests/{request_id}/accept")
    assert response.status_code == 409
    assert response.json()["detail"] == "This request has already been taken by another employee."
    anna.http.post(f"/api/requests/{request_id}/close")
    assert anna.http.post(f"/api/requests/{request_id}/accept").status_code == 409


def test_not_serving_the_queue_means_not_found(server: LiveServer) -> None:
    visitor = visit(server)
    request_id = waiting_request(visitor, "Sales", server)
    emma = server.login("emma")  # serves Technical support only
    assert emma.http.get(f"/api/requests/{request_id}").status_code == 404
    assert emma.http.post(f"/api/requests/{request_id}/accept").status_code == 404
    assert emma.http.get(f"/api/requests/{request_id}/messages").status_code == 404


def test_live_exchange_both_ways(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    reply = anna.http.post(f"/api/requests/{request_id}/messages", json={"body": "Чем помочь?"})
    assert reply.status_code == 201
    bodies = [m["body"] for m in visitor.conversation()["messages"] if m["kind"] == "text"]
    assert bodies[-1] == "Чем помочь?"
    employee_view = next(
        m for m in visitor.conversation()["messages"] if m["body"] == "Чем помочь?"
    )
    assert employee_view["author"] == {
        "kind": "employee",
        "id": None,
        "name": "Анна Смирнова",
        "avatar_url": None,
    }
    visitor.send("Где мой заказ?")
    history = anna.http.get(f"/api/requests/{request_id}/messages").json()
    assert history[-1]["body"] == "Где мой заказ?" and history[-1]["author"]["kind"] == "client"


def test_only_the_assignee_handles_the_request(server: LiveServer) -> None:
    _, _, request_id = taken(server, "anna")
    boris = server.login("boris")
    for action in ("close", "block", "return"):
        assert boris.http.post(f"/api/requests/{request_id}/{action}").status_code == 404
    assert (
        boris.http.post(f"/api/requests/{request_id}/messages", json={"body": "x"}).status_code
        == 404
    )


def test_close_then_next_message_opens_a_new_request(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    assert anna.http.get("/api/requests/mine").json() == []
    assert visitor.conversation()["request"] is None
    visitor.send("Новый вопрос")
    assert visitor.conversation()["request"]["id"] != request_id


def test_return_to_queue_goes_back_where_it_was_taken_from(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna", "Technical support")
    assert anna.http.post(f"/api/requests/{request_id}/return").status_code == 204
    assert anna.http.get("/api/requests/mine").json() == []
    (card,) = server.login("olga").http.get("/api/requests/queue").json()
    assert (card["id"], card["queue"]["name"]) == (request_id, "Technical support")
    detail = anna.http.get(f"/api/requests/{request_id}").json()
    assert [h["kind"] for h in detail["history"]][-2:] == ["accepted", "returned"]


def test_transfer_to_queue_of_the_same_resource_only(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna", "Sales")
    admin = server.login("admin")
    other = admin.http.post("/api/admin/resources", json={"name": "Other site"}).json()
    foreign = admin.http.post(
        f"/api/admin/resources/{other['id']}/queues", json={"name": "Foreign"}
    ).json()
    refused = anna.http.post(
        f"/api/requests/{request_id}/transfer-queue", json={"queue_id": foreign["id"]}
    )
    assert refused.status_code == 422
    options = anna.http.get(f"/api/requests/{request_id}/transfer-options").json()
    assert [q["name"] for q in options["queues"]] == [
        "Sales",
        "Technical support",
        "General questions",
    ]
    target = queue_ids(server)["Technical support"]
    assert (
        anna.http.post(
            f"/api/requests/{request_id}/transfer-queue", json={"queue_id": target}
        ).status_code
        == 204
    )
    emma_queue = server.login("emma").http.get("/api/requests/queue").json()
    assert [r["id"] for r in emma_queue] == [request_id]


def test_transfer_to_specialist_makes_them_responsible(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna", "Sales")
    options = anna.http.get(f"/api/requests/{request_id}/transfer-options").json()
    tech = next(g for g in options["groups"] if g["name"] == "Technical specialists")
    olga = next(m for m in tech["members"] if m["name"] == "Ольга Иванова")
    wrong = anna.http.post(
        f"/api/requests/{request_id}/transfer-employee",
        json={"group_id": tech["id"], "employee_id": anna.me["id"]},
    )
    assert wrong.status_code == 422
    done = anna.http.post(
        f"/api/requests/{request_id}/transfer-employee",
        json={"group_id": tech["id"], "employee_id": olga["id"]},
    )
    assert done.status_code == 204
    assert anna.http.get("/api/requests/mine").json() == []
    olga_session = server.login("olga")
    assert [r["id"] for r in olga_session.http.get("/api/requests/mine").json()] == [request_id]
    history = olga_session.http.get(f"/api/requests/{request_id}").json()["history"]
    assert (
        history[-1]["kind"] == "transferred_to_specialist"
        and history[-1]["target"] == "Ольга Иванова"
    )


def test_blocked_client_cannot_write_and_admin_unblocks(server: LiveServer) -> None:
    anna, visitor, request_id = taken(server, "anna")
    client_id = anna.http.get(f"/api/requests/{request_id}").json()["client"]["id"]
    assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204
    refused = visitor.send("Можно?")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Sorry, you can no longer send messages here."
    # The block revoked the visitor's token: no new session from it, only the notice.
    again = visitor.http.post(
        "/api/widget/session",
        json={
            "public_key": demo_site(server)["public_key"],
            "visitor_token": visitor.token,
            "embedding_origin": "http://shop.example",
        },
    )
    assert again.status_code == 403 and again.json()["code"] == "blocked"
    assert anna.http.post(f"/api/clients/{client_id}/unblock").status_code == 403
    assert anna.http.get("/api/admin/blocked-clients").status_code == 403
    admin = server.login("admin")
    (listed,) = admin.http.get("/api/admin/blocked-clients").json()
    assert (listed["id"], listed["blocked_by"]) == (client_id, "Анна Смирнова")
    assert admin.http.post(f"/api/clients/{client_id}/unblock").status_code == 204
    assert admin.http.get("/api/admin/blocked-clients").json() == []
    # The revoked token stays revoked; the widget's next session continues the same client.
    assert visitor.send("Спасибо").status_code == 401
    renewed = visit(server, token=visitor.token)
    assert renewed.session["client"]["id"] == client_id
    assert renewed.send("Спасибо").status_code == 201


def test_contacts_update_hide_and_validation(server: LiveServer) -> None:
    anna, _, request_id = taken(server, "anna")
    client_id = anna.http.get(f"/api/requests/{request_id}").json()["client"]["id"]
    url = f"/api/clients/{client_id}/contacts"
    bad = anna.http.put(url, json={"contacts": [{"kind": "email", "value": "not-an-email"}]})
    assert bad.status_code == 422 and "e-mail" in bad.json()["detail"]
    saved = anna.http.put(
        url,
        json={
            "contacts": [
                {"kind": "phone", "value": "+7 900 123-45-67"},
                {"kind": "email", "value": "ivan@example.com"},
            ]
        },
    ).json()
    phone = next(c for c in saved["contacts"] if c["kind"] == "phone")
    hidden = anna.http.post(f"{url}/{phone['id']}/hide").json()
    assert next(c for c in hidden["contacts"] if c["id"] == phone["id"])["is_hidden"] is True
    shown = anna.http.post(f"{url}/{phone['id']}/unhide").json()
    assert next(c for c in shown["contacts"] if c["id"] == phone["id"])["is_hidden"] is False
    renamed = anna.http.patch(f"/api/clients/{client_id}", json={"display_name": "Иван"}).json()
    assert renamed["display_name"] == "Иван" and len(renamed["requests"]) == 1
    assert server.login("emma").http.get(f"/api/clients/{client_id}").status_code == 404


def test_visitor_cannot_see_another_visitors_files(server: LiveServer) -> None:
    alice, bob = visit(server), visit(server)
    upload = alice.http.post(
        "/api/widget/files", files={"file": ("a.txt", b"secret", "text/plain")}
    ).json()
    alice.send("файл", attachment_ids=[upload["id"]])
    own = alice.http.get(f"/api/widget/files/{upload['id']}")
    assert own.status_code == 200 and own.content == b"secret"
    other = bob.http.get(f"/api/widget/files/{upload['id']}")
    assert other.status_code == 404
    assert all(m["body"] != "файл" for m in bob.conversation()["messages"])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_widget_messages_are_rate_limited(server: LiveServer) -> None:
    visitor = visit(server)
    statuses = [visitor.send(f"m{n}").status_code for n in range(32)]
    assert statuses[:30] == [201] * 30
    assert statuses[-1] == 429


@pytest.mark.parametrize("backend", ["sqlite"])
def test_topic_timer_fires_after_a_restart(server: LiveServer) -> None:
    set_topic_time(server, 2)
    visitor = visit(server)
    visitor.send("Жду ответа")
    server.stop()
    time.sleep(2.5)
    restarted = LiveServer(server.settings, server.port).start()
    try:
        http = restarted.client()
        http.headers["Authorization"] = f"Bearer {visitor.token}"
        deadline = time.monotonic() + 10
        while http.get("/api/widget/conversation").json()["request"]["status"] != "waiting":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        restarted.stop()


def test_a_topic_chosen_while_the_first_message_is_on_its_way_is_never_lost(
    server: LiveServer,
) -> None:
    """The widget sends the topic choice and the first message at once: whichever the server
    takes first, the request ends up waiting in the chosen queue, not for the topic timer."""
    sales = queue_ids(server)["Sales"]
    visitors = [visit(server) for _ in range(12)]
    assert all(v.session["request"] is None for v in visitors)
    start = threading.Barrier(len(visitors) * 2)

    def pick(visitor: Visitor) -> None:
        start.wait()
        visitor.pick(sales)

    def write(visitor: Visitor) -> None:
        start.wait()
        assert visitor.send("Здравствуйте").status_code == 201

    threads = [threading.Thread(target=pick, args=(v,)) for v in visitors]
    threads += [threading.Thread(target=write, args=(v,)) for v in visitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    states = [v.conversation()["request"] for v in visitors]
    assert [(s["status"], s["queue_name"]) for s in states] == [("waiting", "Sales")] * len(
        visitors
    )
