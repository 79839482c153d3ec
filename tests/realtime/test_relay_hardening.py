"""Frames relayed between a call's parties: any text they carry reaches the other side, a socket
that cannot send is closed at once (not left silent), the first frame is checked, and a
co-browsing viewer that cannot keep up costs bounded memory."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from impserver.channels.widget.visitors import SOCKET_PROTOCOL
from impserver.demo import seed_demo
from impserver.realtime.events import employee_key
from impserver.realtime.gateway import HELLO_REFUSED, QUEUE_BYTES_LIMIT
from impserver.realtime.outbox import Envelope
from tests.api.test_calls import invite
from tests.harness import LiveServer, Socket, free_port

LONE = "\ud800"


def raw(frame: dict[str, Any]) -> str:
    """JSON text as a browser's JSON.stringify writes it: a lone surrogate as an escape."""
    return json.dumps(frame)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


def test_lone_surrogates_in_relayed_frames_reach_both_tabs_which_keep_receiving(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    anna, visitor, _, call = invite(server, "cobrowse")
    other_tab = server.login("anna")
    with anna.socket() as tab, other_tab.socket() as second_tab, visitor.socket() as widget:
        signal = {"sdp": f"v=0 {LONE} broken", "half emoji": "\ud83d"}
        widget.ws.send(raw({"type": "call.signal", "call_id": call["id"], "data": signal}))
        page = {"events": [{"type": 3, "data": {"text": f"{LONE}x"}}]}
        widget.ws.send(raw({"type": "cobrowse.frames", "call_id": call["id"], "data": page}))
        for each in (tab, second_tab):
            assert each.event("call.signal")["data"] == signal
            assert each.event("cobrowse.frames")["data"] == page
        # And the other way: the employee's action on the client's page.
        control = {"action": "input", "id": 3, "value": f"{LONE}typed"}
        tab.ws.send(raw({"type": "cobrowse.control", "call_id": call["id"], "data": control}))
        assert widget.event("cobrowse.control")["data"] == control

        # Both tabs and the widget go on receiving events as before.
        anna.http.patch("/api/me", json={"theme": "dark"})
        for each in (tab, second_tab):
            assert each.event("me.updated")["employee"]["theme"] == "dark"
        assert visitor.send("Всё ещё здесь").status_code == 201
        assert widget.event("message.created")["message"]["body"] == "Всё ещё здесь"
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_socket_that_cannot_send_is_closed_at_once_and_reported(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever makes a frame unsendable, the socket must not live on with a dead writer: it
    is closed so that the tab reconnects and resumes now, and the failure is logged."""
    anna = server.login("anna")
    other_tab = server.login("anna")
    unsendable = '{"type":"test.unsendable","text":"' + LONE + '"}'

    async def deliver_to_anna() -> None:
        envelope = Envelope((employee_key(anna.me["id"]),), frame=unsendable)
        server.services.gateway.deliver(envelope)

    with anna.socket() as tab, other_tab.socket() as second_tab:
        # Both tabs get it; each fails to send it and is closed, with a code that says so.
        server.run(deliver_to_anna())
        for each in (tab, second_tab):
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    each.receive(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    assert any("sending to" in r.getMessage() for r in caplog.records)
    # A reconnecting tab resumes and hears what happens next.
    with anna.socket() as tab:
        anna.http.patch("/api/me", json={"theme": "dark"})
        assert tab.event("me.updated")["employee"]["theme"] == "dark"


BAD_HELLOS: list[Any] = [
    True,
    False,
    "5",
    2**70,
    2**63,
    -1,
    1.5,
    [1],
    {"id": 1},
    LONE,
]


def hello_answer(
    url: str, headers: dict[str, str], hello: str, subprotocols: list[Subprotocol] | None = None
) -> tuple[list[Any], int | None]:
    frames: list[Any] = []
    with connect(url, additional_headers=headers, subprotocols=subprotocols, open_timeout=5) as ws:
        ws.send(hello)
        try:
            while True:
                frames.append(json.loads(ws.recv(timeout=5)))
        except ConnectionClosed as closed:
            return frames, closed.rcvd.code if closed.rcvd else None
    return frames, None


def test_hello_with_a_bad_last_event_id_is_refused_with_an_error_frame(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    anna = server.login("anna")
    visitor = invite(server)[1]
    kinds = {
        "employee": (server.ws_url, {"Cookie": anna.cookie_header}, None),
        "visitor": (
            f"{server.ws_url}/widget",
            {},
            [Subprotocol(SOCKET_PROTOCOL), Subprotocol(visitor.token)],
        ),
    }
    failures = []
    for kind, (url, headers, subprotocols) in kinds.items():
        for value in BAD_HELLOS:
            frames, code = hello_answer(
                url, headers, raw({"type": "hello", "last_event_id": value}), subprotocols
            )
            refused = {"type": "error", "detail": HELLO_REFUSED, "code": "bad_hello"}
            if code != 4400 or frames != [refused]:
                failures.append(f"{kind}, last_event_id {value!r}: {frames} then {code}")
        # A good hello with fields this version does not know is still a hello.
        frames, _ = hello_answer(
            url, headers, raw({"type": "hello", "last_event_id": 0}), subprotocols
        )
        with connect(
            url, additional_headers=headers, subprotocols=subprotocols, open_timeout=5
        ) as ws:
            ws.send(raw({"type": "hello", "last_event_id": 2**63 - 1, "client": "v2"}))
            assert json.loads(ws.recv(timeout=5))["type"] in ("ready", "reset")
    assert failures == []
    assert tracebacks(caplog) == []


# -- co-browsing flood --------------------------------------------------------------------------


@pytest.fixture
def roomy_server(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    """The demo IMP with a co-browsing rate limit that a flood test's burst stays within, so
    that what bounds the memory is the viewer's queue."""
    settings = settings_factory(
        backend,
        cobrowse_burst_bytes=512 * 1024 * 1024,
        ws_ping_seconds=30.0,
        ws_dead_after_seconds=120.0,
    )
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


PAGE_CHARS = 512 * 1024
FLOOD_FRAMES = 120  # 60 MB: beyond what the viewer's queue and the loopback buffers hold


def page_frame(call_id: int, marker: str) -> str:
    events = [{"type": 2, "marker": marker, "html": "p" * PAGE_CHARS}]
    return raw({"type": "cobrowse.frames", "call_id": call_id, "data": {"events": events}})


def test_a_viewer_that_cannot_keep_up_gets_a_fresh_page_not_an_endless_queue(
    roomy_server: LiveServer,
) -> None:
    server = roomy_server
    anna, visitor, _, call = invite(server, "cobrowse")
    recipient = employee_key(anna.me["id"])
    # The viewer's socket reads nothing: one frame in its client's queue, then TCP pushes back.
    with (
        connect(
            server.ws_url,
            additional_headers={"Cookie": anna.cookie_header},
            max_queue=1,
            max_size=None,
            open_timeout=10,
        ) as slow_ws,
        visitor.socket() as widget,
    ):
        slow = Socket(slow_ws)
        slow.send({"type": "hello", "last_event_id": None})
        slow.event("ready")
        for number in range(FLOOD_FRAMES):
            widget.ws.send(page_frame(call["id"], f"flood-{number}"))
        # The server asked the client's page for a whole fresh page instead of queueing on.
        request = widget.event("cobrowse.control", timeout=30)
        assert request["data"] == {"action": "snapshot"} and request["call_id"] == call["id"]

        async def queued_bytes() -> list[int]:
            return [c.outbox.size for c in server.services.gateway.connections()]

        # Nothing waiting for any socket is beyond the limit, and the viewer is still served.
        assert max(server.run(queued_bytes())) <= QUEUE_BYTES_LIMIT
        widget.ws.send(page_frame(call["id"], "after-the-flood"))
        seen = slow.receive_until(
            lambda f: (
                f.get("type") == "cobrowse.frames"
                and f["data"]["events"][0]["marker"] == "after-the-flood"
            ),
            timeout=60,
        )
        assert seen["call_id"] == call["id"]
        received = [
            f["data"]["events"][0]["marker"]
            for f in slow.seen
            if f.get("type") == "cobrowse.frames"
        ]
        # Some of the flood was dropped for this viewer rather than queued for it.
        assert len(received) < FLOOD_FRAMES + 1
        assert recipient in {c.recipient for c in server.run(_connections(server))}


async def _connections(server: LiveServer) -> list[Any]:
    return server.services.gateway.connections()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_co_browsing_frames_beyond_the_session_rate_are_refused_then_the_page_is_renewed(
    backend: str, settings_factory: Any
) -> None:
    settings = settings_factory(
        backend, cobrowse_burst_bytes=1024 * 1024, cobrowse_bytes_per_second=1
    )
    server = LiveServer(settings, free_port()).start()
    try:
        server.run(seed_demo(server.services, site_origin="http://shop.example", language="en"))
        anna, visitor, _, call = invite(server, "cobrowse")
        with anna.socket() as tab, visitor.socket() as widget:
            widget.ws.send(page_frame(call["id"], "first"))
            assert tab.event("cobrowse.frames")["data"]["events"][0]["marker"] == "first"
            # A second half-megabyte page within the same second is past the session's budget.
            widget.ws.send(page_frame(call["id"], "second"))
            refused = widget.event("error")
            assert refused["command"] == "cobrowse.frames"
            assert "Too many co-browsing frames" in refused["detail"]
            # The next frame that fits goes through, and since the viewer missed changes the
            # client's page is asked for a whole page again.
            small = {"events": [{"type": 3, "marker": "third"}]}
            widget.send({"type": "cobrowse.frames", "call_id": call["id"], "data": small})
            assert tab.event("cobrowse.frames")["data"] == small
            assert widget.event("cobrowse.control")["data"] == {"action": "snapshot"}
            tab.assert_silent("cobrowse.frames")
            assert not [
                f
                for f in tab.seen
                if f.get("type") == "cobrowse.frames" and "second" in json.dumps(f)
            ]
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_deeply_nested_page_is_relayed_and_an_infinite_number_refused(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A page's recorded DOM nests two levels per element: a deep page must still pass."""
    anna, visitor, _, call = invite(server, "cobrowse")
    depth = 900
    deep_text = '{"type":2,"node":' + "[" * depth + "]" * depth + "}"
    with anna.socket() as tab, visitor.socket() as widget:
        head = f'{{"type":"cobrowse.frames","call_id":{call["id"]},"data":{{"events":['
        widget.ws.send(head + deep_text + "]}}")
        relayed = tab.event("cobrowse.frames")["data"]["events"][0]
        node, levels = relayed["node"], 0
        while node:
            node, levels = node[0], levels + 1
        assert levels == depth - 1
        widget.ws.send(f'{{"type":"call.signal","call_id":{call["id"]},"data":{{"sdp":1e400}}}}')
        assert widget.event("error")["detail"] == "This message cannot be passed on as JSON."
        tab.assert_silent("call.signal")
    assert tracebacks(caplog) == []
