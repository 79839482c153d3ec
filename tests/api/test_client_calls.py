"""Calls a widget client starts: the website's switches, the refusals, who may answer, and the
record every outcome leaves in the request's history."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from impserver.core.clock import utcnow
from tests.api.test_calls import history_kinds
from tests.api.test_requests import taken, waiting_request
from tests.harness import LiveServer
from tests.widget import Visitor, demo_site, visit


def allow_client_calls(server: LiveServer, *, voice: bool = True, video: bool = True) -> None:
    admin = server.login("admin")
    site = demo_site(server)
    changed = admin.http.patch(
        f"/api/admin/resources/{site['id']}",
        json={"client_voice_calls": voice, "client_video_calls": video},
    )
    assert changed.status_code == 200, changed.text


def call_employee(visitor: Visitor, kind: str = "voice") -> Any:
    return visitor.http.post("/api/widget/calls", json={"kind": kind})


def refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_client_calls_are_off_until_the_administrator_turns_them_on(server: LiveServer) -> None:
    site = demo_site(server)
    assert (site["client_voice_calls"], site["client_video_calls"]) == (False, False)
    _, visitor, _ = taken(server, "anna")
    assert visitor.session["resource"]["calls"] == []
    assert refusal(call_employee(visitor, "voice")) == (403, "client_calls_off")
    assert refusal(call_employee(visitor, "video")) == (403, "client_calls_off")

    allow_client_calls(server, voice=True, video=False)
    again = visit(server, token=visitor.token)
    assert again.session["resource"]["calls"] == ["voice"]
    assert refusal(call_employee(again, "video")) == (403, "client_calls_off")
    assert call_employee(again, "voice").status_code == 201


def test_a_client_calls_only_once_an_employee_has_taken_the_request(server: LiveServer) -> None:
    allow_client_calls(server)
    newcomer = visit(server)
    assert refusal(call_employee(newcomer)) == (409, "call_needs_employee")
    waiting_request(newcomer, "Sales", server)
    assert refusal(call_employee(newcomer)) == (409, "call_needs_employee")


def test_one_call_at_a_time(server: LiveServer) -> None:
    allow_client_calls(server)
    anna, visitor, request_id = taken(server, "anna")
    assert call_employee(visitor, "video").status_code == 201
    assert refusal(call_employee(visitor, "voice")) == (409, "call_in_progress")
    # Nor may the employee invite on top of the client's call.
    invited = anna.http.post(f"/api/requests/{request_id}/calls", json={"kind": "screen"})
    assert refusal(invited) == (409, "call_in_progress")


def test_only_screen_sharing_and_co_browsing_are_the_employees_to_ask(server: LiveServer) -> None:
    allow_client_calls(server)
    _, visitor, _ = taken(server, "anna")
    for kind in ("screen", "cobrowse", "hologram"):
        assert call_employee(visitor, kind).status_code == 422


def test_the_call_rings_for_the_assignee_who_accepts_it(server: LiveServer) -> None:
    allow_client_calls(server)
    anna, visitor, request_id = taken(server, "anna")
    boris = server.login("boris")
    with anna.socket() as tab, boris.socket() as boris_tab, visitor.socket() as widget:
        started = call_employee(visitor, "video")
        assert started.status_code == 201, started.text
        call = started.json()
        assert (call["state"], call["started_by"], call["request_id"]) == (
            "ringing",
            "client",
            request_id,
        )
        ringing = tab.event("call.updated")["call"]
        assert (ringing["id"], ringing["state"]) == (call["id"], "ringing")
        boris_tab.assert_silent("call.updated")

        # Nobody but Anna answers it: not another employee, not the client themselves.
        answer_url = f"/api/calls/{call['id']}/answer"
        assert boris.http.post(answer_url, json={"response": "accept"}).status_code == 404
        assert visitor.http.post(answer_url, json={"response": "accept"}).status_code == 401
        assert refusal(
            visitor.http.post(
                f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"}
            )
        ) == (422, "call_not_invited")
        stranger = visit(server)
        assert stranger.http.post(f"/api/widget/calls/{call['id']}/hangup").status_code == 404

        accepted = anna.http.post(answer_url, json={"response": "accept"})
        assert accepted.json()["state"] == "accepted"
        assert widget.receive_until(
            lambda f: f.get("type") == "call.updated" and f["call"]["state"] == "accepted"
        )
        # Another of Anna's tabs answering a moment later finds it taken.
        assert refusal(anna.http.post(answer_url, json={"response": "accept"})) == (
            409,
            "invitation_closed",
        )

        # The same signalling relay as an employee's call.
        widget.send({"type": "call.signal", "call_id": call["id"], "data": {"type": "offer"}})
        assert tab.event("call.signal")["data"] == {"type": "offer"}
        boris_tab.assert_silent("call.signal")

        assert visitor.http.post(f"/api/widget/calls/{call['id']}/connected").status_code == 200
        ended = anna.http.post(f"/api/calls/{call['id']}/hangup").json()
        assert (ended["state"], ended["outcome"]) == ("ended", "completed")
    ((_, details),) = history_kinds(anna, request_id)
    assert (details["call_kind"], details["outcome"], details["started_by"]) == (
        "video",
        "completed",
        "client",
    )


def test_a_declined_call_is_recorded_and_the_client_told(server: LiveServer) -> None:
    allow_client_calls(server)
    anna, visitor, request_id = taken(server, "anna")
    call = call_employee(visitor).json()
    with visitor.socket() as widget:
        declined = anna.http.post(f"/api/calls/{call['id']}/answer", json={"response": "decline"})
        assert (declined.json()["state"], declined.json()["outcome"]) == ("ended", "declined")
        told = widget.event("call.updated")["call"]
        assert (told["state"], told["outcome"]) == ("ended", "declined")
    assert [(d["outcome"], d["started_by"]) for _, d in history_kinds(anna, request_id)] == [
        ("declined", "client")
    ]
    late = anna.http.post(f"/api/calls/{call['id']}/answer", json={"response": "accept"})
    assert refusal(late) == (409, "invitation_closed")


def test_the_client_cancels_a_call_before_it_is_answered(server: LiveServer) -> None:
    allow_client_calls(server)
    anna, visitor, request_id = taken(server, "anna")
    call = call_employee(visitor).json()
    with anna.socket() as tab:
        visitor.http.post(f"/api/widget/calls/{call['id']}/hangup")
        update = tab.event("call.updated")["call"]
        assert (update["state"], update["outcome"]) == ("ended", "cancelled")
    assert history_kinds(anna, request_id)[0][1]["outcome"] == "cancelled"


def test_an_employee_in_do_not_disturb_is_not_rung(server: LiveServer) -> None:
    allow_client_calls(server)
    anna, visitor, request_id = taken(server, "anna")
    anna.http.patch("/api/me", json={"dnd_until": (utcnow() + timedelta(hours=1)).isoformat()})
    with anna.socket() as tab:
        started = call_employee(visitor)
        assert started.status_code == 201
        assert (started.json()["state"], started.json()["outcome"]) == ("ended", "busy")
        # Her tabs hear only that it ended (its record joins the history), never a ring.
        assert tab.event("call.updated")["call"]["state"] == "ended"
    assert [(d["outcome"], d["started_by"]) for _, d in history_kinds(anna, request_id)] == [
        ("busy", "client")
    ]


def test_the_call_ends_with_the_request_passing_on(server: LiveServer) -> None:
    allow_client_calls(server)
    anna, visitor, request_id = taken(server, "anna")
    call = call_employee(visitor).json()
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204
    assert history_kinds(anna, request_id)[0][1]["outcome"] == "request_released"
    assert visitor.http.get("/api/widget/calls/active").json() is None
    late = anna.http.post(f"/api/calls/{call['id']}/answer", json={"response": "accept"})
    assert late.status_code == 404


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_unanswered_call_ends_after_the_clients_answer_time(
    backend: str, settings_factory: object
) -> None:
    from impserver.demo import seed_demo
    from tests.harness import free_port

    live = LiveServer(
        settings_factory(  # type: ignore[operator]
            backend, client_call_answer_seconds=1.0, timer_interval_seconds=0.2
        ),
        free_port(),
    ).start()
    try:
        live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
        allow_client_calls(live)
        anna, visitor, request_id = taken(live, "anna")
        assert call_employee(visitor).status_code == 201
        deadline = time.monotonic() + 10
        while not history_kinds(anna, request_id):
            assert time.monotonic() < deadline, "the unanswered call did not end"
            time.sleep(0.2)
        assert history_kinds(anna, request_id)[0][1]["outcome"] == "no_answer"
    finally:
        live.stop()


def connected_call(server: LiveServer, started_by: str, kind: str = "voice") -> Any:
    """A call under way between Anna and a client, started by either."""
    allow_client_calls(server)
    anna, visitor, request_id = taken(server, "anna")
    if started_by == "client":
        call = call_employee(visitor, kind).json()
        anna.http.post(f"/api/calls/{call['id']}/answer", json={"response": "accept"})
    else:
        call = anna.http.post(f"/api/requests/{request_id}/calls", json={"kind": kind}).json()
        visitor.http.post(f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"})
    assert visitor.http.post(f"/api/widget/calls/{call['id']}/connected").status_code == 200
    return anna, visitor, request_id, call["id"]


@pytest.mark.parametrize("started_by", ["client", "employee"])
def test_the_client_shows_the_screen_during_a_call_without_hanging_up(
    server: LiveServer, started_by: str
) -> None:
    anna, visitor, request_id, call_id = connected_call(server, started_by, "video")
    employee_screen = f"/api/calls/{call_id}/screen"
    client_screen = f"/api/widget/calls/{call_id}/screen"
    with visitor.socket() as widget:
        asked = anna.http.post(employee_screen, json={"action": "ask"}).json()
        assert (asked["state"], asked["screen"]) == ("connected", "asked")
        assert widget.event("call.updated")["call"]["screen"] == "asked"
    declined = visitor.http.post(client_screen, json={"action": "decline"}).json()
    assert declined["screen"] is None
    assert refusal(visitor.http.post(client_screen, json={"action": "decline"})) == (
        409,
        "screen_not_asked",
    )
    anna.http.post(employee_screen, json={"action": "ask"})
    with anna.socket() as tab:
        shared = visitor.http.post(client_screen, json={"action": "share"}).json()
        assert (shared["state"], shared["screen"]) == ("connected", "on")
        assert tab.event("call.updated")["call"]["screen"] == "on"
    stopped = anna.http.post(employee_screen, json={"action": "stop"}).json()
    assert (stopped["state"], stopped["screen"]) == ("connected", None)
    # The client may show it unasked too, and stop it.
    assert visitor.http.post(client_screen, json={"action": "share"}).json()["screen"] == "on"
    assert visitor.http.post(client_screen, json={"action": "stop"}).json()["screen"] is None
    anna.http.post(f"/api/calls/{call_id}/hangup")
    ((_, details),) = history_kinds(anna, request_id)
    assert (details["call_kind"], details["outcome"], details["screen_shared"]) == (
        "video",
        "completed",
        True,
    )


def test_the_screen_is_the_call_parties_to_show_and_only_during_a_call(
    server: LiveServer,
) -> None:
    allow_client_calls(server)
    anna, visitor, _ = taken(server, "anna")
    ringing = call_employee(visitor).json()
    not_yet = anna.http.post(f"/api/calls/{ringing['id']}/screen", json={"action": "ask"})
    assert refusal(not_yet) == (409, "screen_needs_call")
    anna.http.post(f"/api/calls/{ringing['id']}/answer", json={"response": "accept"})
    visitor.http.post(f"/api/widget/calls/{ringing['id']}/connected")
    boris, stranger = server.login("boris"), visit(server)
    ask = boris.http.post(f"/api/calls/{ringing['id']}/screen", json={"action": "ask"})
    assert ask.status_code == 404
    share = stranger.http.post(
        f"/api/widget/calls/{ringing['id']}/screen", json={"action": "share"}
    )
    assert share.status_code == 404
    # Each side has its own words: the employee asks, the client shares.
    wrong = anna.http.post(f"/api/calls/{ringing['id']}/screen", json={"action": "share"})
    assert wrong.status_code == 422
    wrong = visitor.http.post(f"/api/widget/calls/{ringing['id']}/screen", json={"action": "ask"})
    assert wrong.status_code == 422
