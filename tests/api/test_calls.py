"""The call state machine over the API and the socket (media itself is browser to browser)."""

from __future__ import annotations

import time

import pytest

from tests.api.test_requests import taken
from tests.harness import LiveServer


def invite(server: LiveServer, kind: str = "voice"):  # type: ignore[no-untyped-def]
    anna, visitor, request_id = taken(server, "anna")
    response = anna.http.post(f"/api/requests/{request_id}/calls", json={"kind": kind})
    assert response.status_code == 201, response.text
    return anna, visitor, request_id, response.json()


def history_kinds(anna, request_id: int) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    detail = anna.http.get(f"/api/requests/{request_id}").json()
    return [(h["kind"], h["details"]) for h in detail["history"] if h["kind"] == "call"]


def test_voice_call_allow_accept_connect_and_hang_up(server: LiveServer) -> None:
    anna, visitor, request_id, call = invite(server, "voice")
    assert call["state"] == "invited"
    with visitor.socket() as widget:
        allowed = visitor.http.post(
            f"/api/widget/calls/{call['id']}/respond", json={"response": "allow"}
        )
        assert allowed.json()["state"] == "ringing"
        accepted = visitor.http.post(
            f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"}
        )
        assert accepted.json()["state"] == "accepted"
        assert widget.event("call.updated")["call"]["state"] in ("ringing", "accepted")
        assert anna.http.post(f"/api/calls/{call['id']}/connected").json()["state"] == "connected"
        ended = visitor.http.post(f"/api/widget/calls/{call['id']}/hangup").json()
        assert (ended["state"], ended["outcome"]) == ("ended", "completed")
    ((_, details),) = history_kinds(anna, request_id)
    assert details["call_kind"] == "voice" and details["outcome"] == "completed"


def test_declined_invitation_is_recorded(server: LiveServer) -> None:
    anna, visitor, request_id, call = invite(server, "video")
    with anna.socket() as tab:
        visitor.http.post(f"/api/widget/calls/{call['id']}/respond", json={"response": "decline"})
        update = tab.event("call.updated")["call"]
        assert (update["state"], update["outcome"]) == ("ended", "declined")
    assert history_kinds(anna, request_id)[0][1]["outcome"] == "declined"
    # The invitation is closed: a late accept is refused.
    late = visitor.http.post(f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"})
    assert late.status_code == 409


def test_one_call_at_a_time_and_only_the_assignee(server: LiveServer) -> None:
    anna, _, request_id, _ = invite(server, "screen")
    again = anna.http.post(f"/api/requests/{request_id}/calls", json={"kind": "voice"})
    assert again.status_code == 409
    boris = server.login("boris")
    assert (
        boris.http.post(f"/api/requests/{request_id}/calls", json={"kind": "voice"}).status_code
        == 404
    )
    bad = anna.http.post(f"/api/requests/{request_id}/calls", json={"kind": "hologram"})
    assert bad.status_code == 422


def test_other_visitors_cannot_touch_the_call(server: LiveServer) -> None:
    from tests.widget import visit

    _, _, _, call = invite(server)
    stranger = visit(server)
    response = stranger.http.post(
        f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"}
    )
    assert response.status_code == 404


def test_signalling_reaches_only_the_other_party(server: LiveServer) -> None:
    anna, visitor, _, call = invite(server, "video")
    boris = server.login("boris")
    with anna.socket() as tab, visitor.socket() as widget, boris.socket() as boris_tab:
        widget.send(
            {
                "type": "call.signal",
                "call_id": call["id"],
                "data": {"sdp": "offer-sdp", "type": "offer"},
            }
        )
        relayed = tab.event("call.signal")
        assert (
            relayed["data"] == {"sdp": "offer-sdp", "type": "offer"}
            and relayed["call_id"] == call["id"]
        )
        tab.send({"type": "call.signal", "call_id": call["id"], "data": {"candidate": "c1"}})
        assert widget.event("call.signal")["data"] == {"candidate": "c1"}
        boris_tab.send({"type": "call.signal", "call_id": call["id"], "data": {"x": 1}})
        assert boris_tab.event("error")["detail"] == "Call not found."
        widget.assert_silent("call.signal")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_unanswered_invitation_times_out(backend: str, settings_factory: object) -> None:
    from impserver.demo import seed_demo
    from tests.harness import free_port

    live = LiveServer(
        settings_factory(backend, call_answer_seconds=1.0, timer_interval_seconds=0.2),  # type: ignore[operator]
        free_port(),
    ).start()
    try:
        live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
        anna, _, request_id, _ = invite(live)
        deadline = time.monotonic() + 10
        while not history_kinds(anna, request_id):
            assert time.monotonic() < deadline, "no-answer timeout did not fire"
            time.sleep(0.2)
        assert history_kinds(anna, request_id)[0][1]["outcome"] == "no_answer"
    finally:
        live.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_dropped_connection_ends_the_call(backend: str, settings_factory: object) -> None:
    from impserver.demo import seed_demo
    from tests.harness import free_port

    server = LiveServer(
        settings_factory(backend, call_reconnect_grace_seconds=1.0, timer_interval_seconds=0.2),  # type: ignore[operator]
        free_port(),
    ).start()
    server.run(seed_demo(server.services, site_origin="http://shop.example", language="en"))
    anna, visitor, request_id, call = invite(server, "voice")
    with visitor.socket():
        visitor.http.post(f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"})
    deadline = time.monotonic() + 10
    while not history_kinds(anna, request_id):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert history_kinds(anna, request_id)[0][1]["outcome"] == "connection_lost"
    server.stop()


def test_hanging_up_before_an_answer_cancels(server: LiveServer) -> None:
    anna, _, request_id, call = invite(server, "voice")
    assert anna.http.post(f"/api/calls/{call['id']}/hangup").json()["outcome"] == "cancelled"
    assert anna.http.get(f"/api/requests/{request_id}/calls/active").json() is None


# -- a request that stops being the employee's ends its calls -------------------------------------


def _close(anna, request_id: int, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    assert anna.http.post(f"/api/requests/{request_id}/close").status_code == 204


def _block(anna, request_id: int, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    assert anna.http.post(f"/api/requests/{request_id}/block").status_code == 204


def _return(anna, request_id: int, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    assert anna.http.post(f"/api/requests/{request_id}/return").status_code == 204


def _to_queue(anna, request_id: int, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    from tests.api.test_requests import queue_ids

    response = anna.http.post(
        f"/api/requests/{request_id}/transfer-queue",
        json={"queue_id": queue_ids(server)["General questions"]},
    )
    assert response.status_code == 204, response.text


def _to_specialist(anna, request_id: int, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    options = anna.http.get(f"/api/requests/{request_id}/transfer-options").json()
    group = next(
        g for g in options["groups"] if any(m["id"] != anna.me["id"] for m in g["members"])
    )
    member = next(m for m in group["members"] if m["id"] != anna.me["id"])
    response = anna.http.post(
        f"/api/requests/{request_id}/transfer-employee",
        json={"group_id": group["id"], "employee_id": member["id"]},
    )
    assert response.status_code == 204, response.text


TRANSITIONS = {
    "close": _close,
    "block": _block,
    "return to queue": _return,
    "transfer to queue": _to_queue,
    "transfer to specialist": _to_specialist,
}


@pytest.mark.parametrize("transition", list(TRANSITIONS))
@pytest.mark.parametrize("kind", ["video", "cobrowse"])
def test_a_request_leaving_the_employee_ends_its_call_and_its_relays(
    server: LiveServer, transition: str, kind: str
) -> None:
    anna, visitor, request_id, call = invite(server, kind)
    visitor.http.post(f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"})
    assert anna.http.post(f"/api/calls/{call['id']}/connected").json()["state"] == "connected"
    with anna.socket() as tab, visitor.socket() as widget:
        TRANSITIONS[transition](anna, request_id, server)
        # Both sides are told, in the same transaction as the transition.
        for side in (tab, widget):
            ended = side.receive_until(
                lambda f: f.get("type") == "call.updated" and f["call"]["state"] == "ended"
            )["call"]
            assert (ended["id"], ended["outcome"]) == (call["id"], "request_released")
        # Nothing the former assignee sends reaches the client's page any more, and back.
        control = {"action": "click", "id": 1}
        tab.send({"type": "cobrowse.control", "call_id": call["id"], "data": control})
        assert tab.event("error")["detail"] == "Call not found."
        tab.send({"type": "call.signal", "call_id": call["id"], "data": {"candidate": "c"}})
        assert tab.event("error")["detail"] == "Call not found."
        if transition == "block":
            # A block revokes the client's tokens: their socket is closed, so nothing reaches it.
            widget.receive_until(lambda f: f.get("type") == "closed")
        else:
            widget.send({"type": "call.signal", "call_id": call["id"], "data": {"candidate": "v"}})
            assert widget.event("error")["detail"] == "Call not found."
            widget.assert_silent("cobrowse.control")
            widget.assert_silent("call.signal")
        tab.assert_silent("call.signal")
    # The history records the call's end as for any call.
    assert server.run(_call_history(server, request_id)) == [
        ("request_released", "request_released")
    ]


async def _call_history(server: LiveServer, request_id: int) -> list[tuple[str | None, str]]:
    from sqlalchemy import select

    from impserver.domains.calls.models import Call
    from impserver.domains.requests.models import RequestTransition

    async with server.services.db.read() as session:
        outcomes = list(
            await session.scalars(select(Call.outcome).where(Call.request_id == request_id))
        )
        recorded = [
            t.details["outcome"]
            for t in await session.scalars(
                select(RequestTransition)
                .where(RequestTransition.request_id == request_id)
                .where(RequestTransition.kind == "call")
            )
        ]
    return list(zip(outcomes, recorded, strict=True))


def test_relays_check_that_the_employee_still_holds_the_request(server: LiveServer) -> None:
    """Even a call left running (a transition racing a relay) relays nothing once the request
    is someone else's."""
    anna, visitor, request_id, call = invite(server, "cobrowse")
    boris_id = server.login("boris").me["id"]

    async def hand_over_without_ending_the_call() -> None:
        from impserver.domains.requests.models import ClientRequest

        async with server.services.db.transaction() as uow:
            request = await uow.session.get(ClientRequest, request_id)
            assert request is not None
            request.assignee_id = boris_id

    with anna.socket() as tab, visitor.socket() as widget:
        tab.send({"type": "cobrowse.control", "call_id": call["id"], "data": {"action": "click"}})
        assert widget.event("cobrowse.control")["data"] == {"action": "click"}
        server.run(hand_over_without_ending_the_call())
        tab.send({"type": "cobrowse.control", "call_id": call["id"], "data": {"action": "click"}})
        assert tab.event("error")["detail"] == "Call not found."
        widget.send({"type": "call.signal", "call_id": call["id"], "data": {"x": 1}})
        assert widget.event("error")["detail"] == "Call not found."
        widget.assert_silent("cobrowse.control")


def test_a_call_record_reaches_the_open_request_at_once(server: LiveServer) -> None:
    """The record is not only in the history: the employee's window gets it by event."""
    anna, visitor, request_id, call = invite(server, "screen")
    with anna.socket() as tab:
        visitor.http.post(f"/api/widget/calls/{call['id']}/respond", json={"response": "decline"})
        record = tab.event("request.message")
        assert record["request_id"] == request_id
        assert record["message"]["kind"] == "system"
        meta = record["message"]["meta"]
        assert (meta["transition"], meta["call_kind"], meta["outcome"]) == (
            "call",
            "screen",
            "declined",
        )
    late = visitor.http.post(f"/api/widget/calls/{call['id']}/respond", json={"response": "accept"})
    assert late.json()["code"] == "invitation_closed"
