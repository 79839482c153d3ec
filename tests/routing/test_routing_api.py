"""Routing that runs itself: requests given to the least busy Online employee, capacity,
reassigning after silence, returning the requests of whoever goes Offline, and bad settings
refused — on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from impserver.core.clock import utcnow
from impserver.demo import seed_demo
from impserver.domains.requests.models import ClientRequest
from impserver.domains.routing.actions import reassign_silent
from tests.harness import LiveServer, free_port
from tests.routing.team import ORIGIN, eventually, new_team
from tests.widget import visit


def fast_server(settings_factory: Any, backend: str, grace: float) -> Iterator[LiveServer]:
    settings = settings_factory(backend, timer_interval_seconds=0.1, offline_grace_seconds=grace)
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


@pytest.fixture
def fast(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    """Timers every 0.1 s. Employees here hold no workspace socket: the default grace (two
    minutes) keeps the status they set for the whole test."""
    yield from fast_server(settings_factory, backend, grace=120)


@pytest.fixture
def quick_to_leave(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    """A workspace gone for a second counts as Offline."""
    yield from fast_server(settings_factory, backend, grace=1)


def test_manual_is_the_default_and_nothing_is_given_out(fast: LiveServer) -> None:
    team = new_team(fast, "ann", "bob")
    team.status("ann", "online")
    _, request_id = team.client_writes()
    assert team.admin.http.get(f"/api/admin/queues/{team.queue_id}/routing").json()["mode"] == (
        "manual"
    )
    eventually(lambda: request_id in team.waiting(), what="the request waits in its queue")
    assert team.mine("ann") == []
    assert team.members["ann"].http.post(f"/api/requests/{request_id}/accept").status_code == 200


def test_automatic_gives_to_the_least_busy_then_in_turn(fast: LiveServer) -> None:
    team = new_team(fast, "ann", "bob", "cid")
    team.route(mode="automatic")
    for name in ("ann", "bob"):
        team.status(name, "online")
    team.status("cid", "away")  # Away: not given requests

    _, first = team.client_writes()
    holder = eventually(
        lambda: next((n for n in ("ann", "bob") if first in team.mine(n)), None),
        what="the first request is given out",
    )
    other = "bob" if holder == "ann" else "ann"
    _, second = team.client_writes()
    eventually(lambda: second in team.mine(other), what="the second goes to the one with none")
    # Both hold one: the third goes to whoever was given one longest ago.
    _, third = team.client_writes()
    eventually(lambda: third in team.mine(holder), what="fair rotation")
    assert team.mine("cid") == []
    history = [h["kind"] for h in team.request(first)["history"]]
    assert "auto_assigned" in history


def test_capacity_holds_in_both_modes_and_a_freed_slot_takes_the_oldest(fast: LiveServer) -> None:
    team = new_team(fast, "ann")
    team.capacity(default=5, ann=2)
    ann = team.members["ann"]
    held = [team.client_writes()[1] for _ in range(3)]
    for request_id in held[:2]:
        assert ann.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    refused = ann.http.post(f"/api/requests/{held[2]}/accept")
    assert refused.status_code == 409
    assert refused.json()["code"] == "at_capacity"
    assert refused.json()["params"] == {"capacity": 2}

    team.route(mode="automatic")
    team.status("ann", "online")
    later = team.client_writes()[1]
    # Full: both wait, in arrival order.
    eventually(lambda: team.waiting() == [held[2], later], what="both wait")
    assert ann.http.post(f"/api/requests/{held[0]}/close").status_code == 204
    eventually(lambda: held[2] in team.mine("ann"), what="the oldest waiting takes the slot")
    assert later in team.waiting()
    assert sorted(team.mine("ann")) == sorted([held[1], held[2]])


def test_silence_returns_the_request_to_the_next_employee(fast: LiveServer) -> None:
    team = new_team(fast, "ann", "bob")
    team.route(mode="automatic", reassign_after_minutes=1)
    team.status("ann", "online")
    visitor, request_id = team.client_writes("Есть кто?")
    eventually(lambda: request_id in team.mine("ann"), what="given to ann")
    team.status("bob", "online")

    async def an_hour_unanswered() -> None:
        async with fast.services.db.transaction() as uow:
            await uow.session.execute(
                update(ClientRequest)
                .where(ClientRequest.id == request_id)
                .values(
                    awaiting_reply_since=utcnow() - timedelta(hours=1),
                    assigned_at=utcnow() - timedelta(hours=1),
                )
            )

    # An answered client is not owed anything: nothing moves.
    team.members["ann"].http.post(f"/api/requests/{request_id}/messages", json={"body": "Да"})

    async def answered_long_ago() -> None:
        async with fast.services.db.transaction() as uow:
            await uow.session.execute(
                update(ClientRequest)
                .where(ClientRequest.id == request_id)
                .values(assigned_at=utcnow() - timedelta(hours=1), awaiting_reply_since=None)
            )

    fast.run(answered_long_ago())
    # The sweep the timers run finds nothing to move (run here, so no timing is guessed).
    assert fast.run(reassign_silent(fast.services)) == 0
    assert request_id in team.mine("ann")
    visitor.send("Алло?")
    with team.members["ann"].socket() as ann_tab:
        fast.run(an_hour_unanswered())
        told = ann_tab.receive_until(lambda f: f.get("type") == "request.taken_back")
    assert told == {**told, "request_id": request_id, "reason": "silence"}
    eventually(lambda: request_id in team.mine("bob"), what="reassigned to bob")
    kinds = [h["kind"] for h in team.request(request_id)["history"]]
    assert "reassigned_silence" in kinds
    assert request_id not in team.mine("ann")


def test_going_offline_returns_requests_of_queues_that_say_so(fast: LiveServer) -> None:
    team = new_team(fast, "ann")
    ann = team.members["ann"]
    request_id = team.client_writes()[1]
    assert ann.http.post(f"/api/requests/{request_id}/accept").status_code == 200
    team.status("ann", "offline")
    assert team.mine("ann") == [request_id]  # "keep" is the default

    team.status("ann", "online")
    team.route(mode="manual", on_offline="return")
    team.status("ann", "offline")
    assert team.mine("ann") == []
    assert request_id in team.waiting()
    assert "returned_offline" in [h["kind"] for h in team.request(request_id)["history"]]


def test_a_closed_workspace_goes_offline_and_colleagues_see_it(
    quick_to_leave: LiveServer,
) -> None:
    team = new_team(quick_to_leave, "ann", "bob")
    with team.members["bob"].socket() as bob_tab:
        with team.members["ann"].socket():
            event = bob_tab.receive_until(
                lambda f: f.get("type") == "employee.status" and f["employee_id"] == team.ids["ann"]
            )
            assert event["status"] == "online"
        gone = bob_tab.receive_until(
            lambda f: f.get("type") == "employee.status" and f["employee_id"] == team.ids["ann"],
            timeout=10,
        )
        assert gone["status"] == "offline"
    statuses = {
        e["employee_id"]: e["status"]
        for e in team.admin.http.get("/api/availability").json()["employees"]
    }
    assert statuses[team.ids["ann"]] == "offline"


def test_idleness_never_overrides_a_status_chosen_by_hand(fast: LiveServer) -> None:
    team = new_team(fast, "ann")
    assert team.status("ann", "away", by_hand=False) == {"status": "away", "chosen_by_hand": False}
    assert team.status("ann", "online", by_hand=False)["status"] == "online"
    team.status("ann", "offline")  # chosen
    assert team.status("ann", "online", by_hand=False) == {
        "status": "offline",
        "chosen_by_hand": True,
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/admin/capacity", {"default_capacity": 0}, "default_capacity"),
        (
            "/api/admin/capacity",
            {"employees": [{"employee_id": 1, "capacity": -1}]},
            "capacity",
        ),
        ("QUEUE", {"mode": "automatic", "reassign_after_minutes": 0}, "reassign_after_minutes"),
        ("QUEUE", {"mode": "sometimes"}, "mode"),
        ("QUEUE", {"on_offline": "vanish"}, "on_offline"),
        ("QUEUE", {"wait_amber_minutes": 10, "wait_red_minutes": 10}, "wait_red_minutes"),
        ("/api/me/availability", {"status": "busy"}, "status"),
    ],
)
def test_bad_routing_settings_are_refused_naming_the_field(
    server: LiveServer, path: str, body: dict[str, Any], field: str
) -> None:
    admin = server.login("admin")
    if path == "QUEUE":
        queue_id = admin.http.get("/api/admin/resources").json()[0]["queues"][0]["id"]
        path = f"/api/admin/queues/{queue_id}/routing"
    response = admin.http.put(path, json=body)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_a_waiting_client_sees_their_place_and_the_usual_wait_move_live(fast: LiveServer) -> None:
    team = new_team(fast, "ann")
    first, first_id = team.client_writes("Первый")
    second, _ = team.client_writes("Второй")
    third, _ = team.client_writes("Третий")
    places = [v.conversation()["request"] for v in (first, second, third)]
    assert [p["position"] for p in places] == [1, 2, 3]
    # No request of this queue was ever taken: nothing to estimate from.
    assert [p["expected_wait_seconds"] for p in places] == [None, None, None]

    with third.socket() as tab:
        accepted = team.members["ann"].http.post(f"/api/requests/{first_id}/accept")
        assert accepted.status_code == 200
        moved = tab.receive_until(lambda f: f.get("type") == "request.state")["request"]
    assert moved["position"] == 2
    assert moved["expected_wait_seconds"] is not None and moved["expected_wait_seconds"] >= 0
    assert second.conversation()["request"]["position"] == 1
    assert first.conversation()["request"]["position"] is None  # taken


def test_cards_carry_the_wait_and_the_queue_thresholds(fast: LiveServer) -> None:
    team = new_team(fast, "ann")
    team.route(mode="manual", wait_amber_minutes=2, wait_red_minutes=4)
    visitor, request_id = team.client_writes("Жду")
    [card] = [c for c in team.admin.http.get("/api/requests/queue").json() if c["id"] == request_id]
    assert (card["wait_amber_seconds"], card["wait_red_seconds"]) == (120, 240)
    assert card["waiting_since"] is not None
    ann = team.members["ann"]
    ann.http.post(f"/api/requests/{request_id}/accept")
    owed = next(c for c in ann.http.get("/api/requests/mine").json() if c["id"] == request_id)
    assert owed["awaiting_reply_since"] is not None  # the client wrote and nobody answered yet
    ann.http.post(f"/api/requests/{request_id}/messages", json={"body": "Отвечаю"})
    answered = ann.http.get("/api/requests/mine").json()[0]
    assert answered["awaiting_reply_since"] is None
    visitor.send("Спасибо, а ещё?")
    assert ann.http.get("/api/requests/mine").json()[0]["awaiting_reply_since"] is not None


CLOSED_ALL_WEEK: list[list[list[str]]] = [[] for _ in range(7)]


def test_outside_hours_the_widget_offers_the_form_and_the_request_waits_marked(
    fast: LiveServer,
) -> None:
    team = new_team(fast, "ann")
    week = [[["09:00", "18:00"]] for _ in range(5)] + [[], []]
    hours = {"enabled": True, "time_zone": "Europe/Moscow", "week": week, "days_off": []}
    # Every day off for a fortnight: certainly closed now, back on the first working day after.
    today = utcnow().date()
    hours["days_off"] = [(today + timedelta(days=i)).isoformat() for i in range(14)]
    saved = team.admin.http.put(f"/api/admin/resources/{team.site['id']}/hours", json=hours)
    assert saved.status_code == 200, saved.text

    visitor = visit(fast, key=team.site["public_key"], origin=ORIGIN)
    assert visitor.session["hours"]["open"] is False
    assert visitor.session["hours"]["back_at"] is not None

    no_contact = visitor.http.post("/api/widget/offline", json={"body": "Перезвоните"})
    assert no_contact.status_code == 422
    bad_mail = visitor.http.post(
        "/api/widget/offline", json={"body": "Перезвоните", "email": "не почта"}
    )
    assert bad_mail.status_code == 422
    assert "e-mail" in bad_mail.text

    left = visitor.http.post(
        "/api/widget/offline",
        json={"name": "Ирина", "email": "irina@example.com", "body": "Перезвоните утром"},
    )
    assert left.status_code == 201, left.text
    [card] = [c for c in team.admin.http.get("/api/requests/queue").json()]
    assert card["outside_hours"] is True
    assert card["client"]["name"] == "Ирина"
    notice = visitor.conversation()["messages"][-1]["body"]
    assert "не работаем" in notice or "not at work" in notice


def test_inside_hours_nothing_changes(fast: LiveServer) -> None:
    team = new_team(fast, "ann")
    around_the_clock = [[["00:00", "24:00"]] for _ in range(7)]
    team.admin.http.put(
        f"/api/admin/resources/{team.site['id']}/hours",
        json={"enabled": True, "time_zone": "UTC", "week": around_the_clock, "days_off": []},
    )
    visitor, request_id = team.client_writes()
    assert visitor.session["hours"] == {"open": True, "back_at": None}
    [card] = [c for c in team.admin.http.get("/api/requests/queue").json() if c["id"] == request_id]
    assert card["outside_hours"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"week": [[["18:00", "09:00"]]] + [[]] * 6}, "week"),
        ({"week": [[["09:00", "13:00"], ["12:00", "18:00"]]] + [[]] * 6}, "week"),
        ({"week": [[["25:00", "26:00"]]] + [[]] * 6}, "week"),
        ({"week": [[]] * 6}, "week"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(
    server: LiveServer, change: dict[str, Any], field: str
) -> None:
    admin = server.login("admin")
    site_id = admin.http.get("/api/admin/resources").json()[0]["id"]
    body = {"enabled": True, "time_zone": "UTC", "week": CLOSED_ALL_WEEK, **change}
    response = admin.http.put(f"/api/admin/resources/{site_id}/hours", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
