"""Who may use the realtime sockets and who hears what: the socket half of the authorisation
matrix (the HTTP half is tests/api/test_authorization_matrix.py).

Roles: admin (serves every queue, in no room), the employee serving the queue who took visitor A's
request (anna, a room member), another room member who serves the queue too (boris), an employee
who neither serves the queue nor is in the room (emma), visitor A, visitor B, and anonymous.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from impserver.channels.widget.visitors import SOCKET_PROTOCOL, TOKEN_MAX_AGE_SECONDS, TOKEN_PURPOSE
from impserver.core.security import sign, unsign
from impserver.demo import seed_demo
from tests.api.test_requests import queue_ids
from tests.api.test_rooms import new_room
from tests.harness import LiveServer, Session, Socket, free_port
from tests.widget import Visitor, visit

Frame = dict[str, Any]


@pytest.fixture
def quiet_server(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    """The demo IMP, with pings far apart: these tests hold many idle sockets open at once."""
    settings = settings_factory(backend, ws_ping_seconds=30.0, ws_dead_after_seconds=120.0)
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


def token_for(
    server: LiveServer, payload: dict[str, Any], *, secret: str = "", purpose: str = ""
) -> str:
    return sign(payload, secret or server.settings.resolved_secret_key, purpose or TOKEN_PURPOSE)


def offer(token: str) -> dict[str, str]:
    """The headers of a widget socket offering ``token`` as the widget does."""
    return {"Sec-WebSocket-Protocol": f"{SOCKET_PROTOCOL}, {token}"}


def refusal(url: str, headers: dict[str, str] | None = None) -> tuple[Frame, int | None]:
    """Open a socket and report how the server refuses it (it does before any hello)."""
    with connect(url, additional_headers=headers or {}, open_timeout=5) as ws:
        frames: list[Frame] = []
        try:
            while True:
                frames.append(json.loads(ws.recv(timeout=5)))
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
    assert frames, f"{url}: closed without a notice"
    assert all(f.get("type") != "ready" for f in frames), f"{url}: got {frames}"
    return frames[0], code


def test_sockets_refuse_whoever_cannot_prove_who_they_are(quiet_server: LiveServer) -> None:
    server = quiet_server
    visitor_a, visitor_b = visit(server), visit(server)
    a_ids = unsign(visitor_a.token, server.settings.resolved_secret_key, TOKEN_PURPOSE)
    b_ids = unsign(visitor_b.token, server.settings.resolved_secret_key, TOKEN_PURPOSE)
    assert a_ids and b_ids
    a_body, a_mac = visitor_a.token.split(".")
    b_body = visitor_b.token.split(".")[0]
    flipped = a_mac[:-2] + ("AA" if not a_mac.endswith("AA") else "BB")
    now = int(time.time())

    gone = server.login("anna")
    gone_cookie = gone.cookie_header
    assert gone.http.post("/api/auth/logout").status_code == 204

    admin = server.login("admin")
    closed_site = admin.http.post(
        "/api/admin/resources",
        json={"name": "Closed shop", "site_origins": ["http://shop.example"]},
    ).json()
    departed = visit(server, key=closed_site["public_key"])
    assert admin.http.delete(f"/api/admin/resources/{closed_site['id']}").status_code == 204

    employee_ws, widget_ws = server.ws_url, f"{server.ws_url}/widget"
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("employee socket, no cookie", employee_ws, {}),
        ("employee socket, forged session cookie", employee_ws, {"Cookie": "imp_session=forged"}),
        ("employee socket, logged-out session", employee_ws, {"Cookie": gone_cookie}),
        (
            "employee socket, visitor token as the session cookie",
            employee_ws,
            {"Cookie": f"imp_session={visitor_a.token}"},
        ),
        (
            "employee socket, visitor token in the address",
            f"{employee_ws}?token={visitor_a.token}",
            {},
        ),
        ("widget socket, no token", widget_ws, {}),
        ("widget socket, empty token", widget_ws, offer("")),
        ("widget socket, forged token", widget_ws, offer("forged.token")),
        ("widget socket, employee's session cookie", widget_ws, {"Cookie": admin.cookie_header}),
        (
            "widget socket, B's identity under A's signature",
            widget_ws,
            offer(f"{b_body}.{a_mac}"),
        ),
        ("widget socket, signature changed", widget_ws, offer(f"{a_body}.{flipped}")),
        (
            "widget socket, signed with another key",
            widget_ws,
            offer(f"{token_for(server, a_ids, secret='another-key')}"),
        ),
        (
            "widget socket, signed for another purpose",
            widget_ws,
            offer(f"{token_for(server, a_ids, purpose='session')}"),
        ),
        (
            "widget socket, expired token",
            widget_ws,
            offer(token_for(server, {**a_ids, "t": now - TOKEN_MAX_AGE_SECONDS - 60})),
        ),
        (
            "widget socket, token without an issue time",
            widget_ws,
            offer(f"{token_for(server, {'c': a_ids['c'], 'r': a_ids['r']})}"),
        ),
        (
            "widget socket, token naming another visitor's resource",
            widget_ws,
            offer(f"{token_for(server, {**a_ids, 'r': a_ids['r'] + 1000})}"),
        ),
        ("widget socket, token of a deleted website", widget_ws, offer(f"{departed.token}")),
    ]
    failures = []
    for name, url, headers in cases:
        notice, code = refusal(url, headers)
        if (notice, code) != ({"type": "closed", "reason": "not_authenticated"}, 4401):
            failures.append(f"{name}: {notice} then close code {code}")
    assert failures == []
    # The same sockets with real credentials are let in: the refusals above are about the
    # credentials, not the way the test connects.
    with visitor_a.socket() as widget, admin.socket() as tab:
        assert widget.ready["type"] == tab.ready["type"] == "ready"


# -- who hears what ---------------------------------------------------------------------------


@dataclass
class World:
    server: LiveServer
    sessions: dict[str, Session]
    visitors: dict[str, Visitor]
    room: dict[str, Any]


def world_of(server: LiveServer) -> World:
    anna, boris = server.login("anna"), server.login("boris")
    sessions = {
        "admin": server.login("admin"),
        "serving employee": anna,
        "room member": boris,
        "employee not serving": server.login("emma"),
    }
    sessions["non-member"] = sessions["employee not serving"]
    visitors = {
        "visitor A": visit(server, name="Visitor-A-name"),
        "visitor B": visit(server, name="Visitor-B-name"),
    }
    return World(server, sessions, visitors, new_room(anna, "boris", name="Matrix room"))


class Sockets:
    """One open socket per role; every frame each receives is kept for the final check."""

    def __init__(self, world: World, stack: Any) -> None:
        self.by_role: dict[str, Socket] = {}
        for role, session in world.sessions.items():
            if role == "non-member":
                continue
            self.by_role[role] = stack.enter_context(session.socket())
        for role, visitor in world.visitors.items():
            self.by_role[role] = stack.enter_context(visitor.socket())
        self.by_role["non-member"] = self.by_role["employee not serving"]

    def wait_for(self, role: str, matches: Callable[[Frame], bool]) -> Frame:
        socket = self.by_role[role]
        for frame in socket.seen:
            if matches(frame):
                return frame
        return socket.receive_until(matches)

    def drain(self, wait: float = 1.0) -> None:
        """Read whatever is still on its way to any socket."""
        time.sleep(wait)
        for socket in {id(s): s for s in self.by_role.values()}.values():
            while True:
                try:
                    socket.receive(timeout=0.05)
                except TimeoutError:
                    break


def mentions(marker: str, event_type: str | None = None) -> Callable[[Frame], bool]:
    def matches(frame: Frame) -> bool:
        return (event_type is None or frame.get("type") == event_type) and marker in json.dumps(
            frame, ensure_ascii=False
        )

    return matches


ALL_ROLES = (
    "admin",
    "serving employee",
    "room member",
    "employee not serving",
    "visitor A",
    "visitor B",
)


def test_events_reach_only_their_audience(quiet_server: LiveServer) -> None:
    world = world_of(quiet_server)
    anna = world.sessions["serving employee"]
    visitor_a = world.visitors["visitor A"]
    room_id = world.room["id"]
    expectations: list[tuple[str, Callable[[Frame], bool], set[str]]] = []

    with contextlib.ExitStack() as stack:
        sockets = Sockets(world, stack)

        def expect(
            step: str,
            event_type: str,
            marker: str,
            receivers: set[str],
            *,
            echoed_to: frozenset[str] = frozenset(),
        ) -> None:
            for role in receivers:
                sockets.wait_for(role, mentions(marker, event_type))
            # Nobody else gets anything that mentions the marker, of any type (the author's
            # own socket may echo it back).
            expectations.append((step, mentions(marker), set(ALL_ROLES) - receivers - echoed_to))

        visitor_a.pick(queue_ids(quiet_server)["Sales"])
        assert visitor_a.send("marker-new-request").status_code == 201
        expect(
            "a new request in Sales",
            "request.updated",
            "marker-new-request",
            {"admin", "serving employee", "room member"},
            echoed_to=frozenset({"visitor A"}),
        )
        request_id = visitor_a.conversation()["request"]["id"]

        assert anna.http.post(f"/api/requests/{request_id}/accept").status_code == 200
        sockets.wait_for("admin", lambda f: f.get("type") == "request.removed")
        sockets.wait_for("room member", lambda f: f.get("type") == "request.removed")

        reply = anna.http.post(
            f"/api/requests/{request_id}/messages", json={"body": "marker-reply-to-A"}
        )
        assert reply.status_code == 201
        expect(
            "a reply to visitor A",
            "message.created",
            "marker-reply-to-A",
            {"visitor A"},
            echoed_to=frozenset({"serving employee"}),
        )

        assert visitor_a.send("marker-from-A").status_code == 201
        expect(
            "visitor A writes",
            "request.message",
            "marker-from-A",
            {"serving employee"},
            echoed_to=frozenset({"visitor A"}),
        )

        sockets.by_role["serving employee"].send({"type": "typing", "room_id": room_id})
        sockets.wait_for(
            "room member",
            lambda f: f.get("type") == "typing" and f.get("room_id") == room_id,
        )

        posted = anna.http.post(f"/api/rooms/{room_id}/messages", json={"body": "marker-room"})
        assert posted.status_code == 201
        expect(
            "a message in the room",
            "message.created",
            "marker-room",
            {"serving employee", "room member"},
        )

        renamed = anna.http.patch(f"/api/rooms/{room_id}", json={"name": "marker-renamed"})
        assert renamed.status_code == 200
        expect(
            "the room renamed",
            "room.updated",
            "marker-renamed",
            {"serving employee", "room member"},
        )

        sockets.drain()
        failures = [
            f"{step}: {role} got {[f for f in sockets.by_role[role].seen if matches(f)]}"
            for step, matches, outsiders in expectations
            for role in outsiders
            if any(matches(f) for f in sockets.by_role[role].seen)
        ]
        # Typing goes to the room's other members and to nobody else.
        failures += [
            f"typing reached {role}"
            for role in ALL_ROLES
            if role != "room member"
            and any(f.get("type") == "typing" for f in sockets.by_role[role].seen)
        ]
        # Visitors see no internal event at all: no queue cards, rooms or other requests.
        internal = {"request.updated", "request.removed", "request.message", "room.updated"}
        failures += [
            f"{role} got {f}"
            for role in ("visitor A", "visitor B")
            for f in sockets.by_role[role].seen
            if f.get("type") in internal
        ]
        # Visitor B got nothing but the socket's own bookkeeping.
        failures += [
            f"visitor B got {f}"
            for f in sockets.by_role["visitor B"].seen
            if f.get("type") not in ("ready", "ping")
        ]
        assert failures == []


# -- commands -----------------------------------------------------------------------------------


@dataclass
class CallWorld:
    world: World
    request_id: int
    request_room_id: int
    call_id: int


def call_world(server: LiveServer) -> CallWorld:
    """Visitor A's Sales request, taken by anna, with a co-browsing invitation under way."""
    world = world_of(server)
    anna, visitor_a = world.sessions["serving employee"], world.visitors["visitor A"]
    visitor_a.pick(queue_ids(server)["Sales"])
    assert visitor_a.send("Помогите").status_code == 201
    request = visitor_a.conversation()["request"]
    assert anna.http.post(f"/api/requests/{request['id']}/accept").status_code == 200
    detail = anna.http.get(f"/api/requests/{request['id']}").json()
    call = anna.http.post(f"/api/requests/{request['id']}/calls", json={"kind": "cobrowse"})
    assert call.status_code == 201, call.text
    return CallWorld(world, request["id"], detail["room_id"], call.json()["id"])


def error_reply(socket: Socket, timeout: float = 5) -> Frame:
    """The next frame that is not a ping or a colleague's status (opening a socket makes its
    employee Online, news for every employee's sockets): a refused command must be answered."""
    return socket.receive_until(
        lambda f: f.get("type") not in ("ping", "employee.status"), timeout=timeout
    )


COMMANDS = {
    "typing",
    "call.signal",
    "cobrowse.frames",
    "cobrowse.control",
    "request.typing",
    "client.typing",
    "client.read",
    "room.send",
    "request.send",
}


def send_frame(kind: str, target: dict[str, int], marker: str) -> Frame:
    """A ``room.send`` or ``request.send`` that fits its schema, its text ``marker`` (which
    its refusal, naming the ``ref``, does not repeat)."""
    ref = marker.replace("refused", "send")
    return {"type": kind, "ref": ref, "client_message_id": ref, "body": marker, **target}


def marked_data(kind: str, marker: str) -> Frame:
    """The data of a relay command of ``kind`` that fits its schema and carries ``marker``."""
    if kind == "cobrowse.frames":
        return {"events": [{"type": 3, "marker": marker}]}
    if kind == "cobrowse.control":
        return {"action": "input", "id": 7, "value": marker}
    return {"marker": marker}


def test_commands_are_refused_for_whoever_may_not_use_them(quiet_server: LiveServer) -> None:
    # A command registered later must be added to the cases below (and to COMMANDS).
    assert set(quiet_server.services.gateway._commands) == COMMANDS
    cw = call_world(quiet_server)
    room_id, call_id = cw.world.room["id"], cw.call_id
    not_found = "Call not found."

    def signal(marker: str, kind: str = "call.signal", call: int = call_id) -> Frame:
        return {"type": kind, "call_id": call, "data": marked_data(kind, marker)}

    # (who sends, the frame, the error they get back)
    cases: list[tuple[str, Frame, str]] = [
        ("non-member", {"type": "typing", "room_id": room_id}, "Room not found."),
        ("admin", {"type": "typing", "room_id": room_id}, "Room not found."),
        (
            "serving employee",
            {"type": "typing", "room_id": cw.request_room_id},
            "Room not found.",
        ),
        (
            "visitor B",
            {"type": "typing", "room_id": cw.request_room_id},
            "Only employees announce typing in rooms.",
        ),
        (
            "visitor A",
            {"type": "typing", "room_id": room_id},
            "Only employees announce typing in rooms.",
        ),
        ("visitor B", signal("refused-1"), not_found),
        ("employee not serving", signal("refused-2"), not_found),
        ("room member", signal("refused-3"), not_found),
        ("admin", signal("refused-4"), not_found),
        ("visitor B", signal("refused-5", call=call_id + 1000), not_found),
        ("visitor B", signal("refused-6", "cobrowse.frames"), not_found),
        (
            "serving employee",
            signal("refused-7", "cobrowse.frames"),
            "cobrowse.frames comes from the client's page only.",
        ),
        ("room member", signal("refused-8", "cobrowse.frames"), "cobrowse.frames comes from"),
        (
            "visitor A",
            signal("refused-9", "cobrowse.control"),
            "cobrowse.control comes from the employee only.",
        ),
        ("visitor B", signal("refused-10", "cobrowse.control"), "cobrowse.control comes from"),
        ("employee not serving", signal("refused-11", "cobrowse.control"), not_found),
        ("room member", signal("refused-12", "cobrowse.control"), not_found),
        ("admin", signal("refused-13", "cobrowse.control"), not_found),
        # Typing in a request: its holder's alone; the client's typing and reading: their widget's.
        (
            "employee not serving",
            {"type": "request.typing", "request_id": cw.request_id},
            "Request not found.",
        ),
        ("admin", {"type": "request.typing", "request_id": cw.request_id}, "Request not found."),
        (
            "visitor A",
            {"type": "request.typing", "request_id": cw.request_id},
            "Only employees announce typing in requests.",
        ),
        (
            "serving employee",
            {"type": "client.typing", "draft": "marker-draft"},
            "Only the client's widget says",
        ),
        ("room member", {"type": "client.typing", "draft": "x"}, "Only the client's widget says"),
        ("admin", {"type": "client.read", "message_id": 1}, "Only the client's widget says"),
        # Sending: to a room of one's own, to a request one holds; never from a widget.
        ("non-member", send_frame("room.send", {"room_id": room_id}, "refused-14"), "Room not"),
        ("admin", send_frame("room.send", {"room_id": room_id}, "refused-15"), "Room not found."),
        (
            "serving employee",
            send_frame("room.send", {"room_id": cw.request_room_id}, "refused-16"),
            "Room not found.",
        ),
        (
            "visitor A",
            send_frame("room.send", {"room_id": room_id}, "refused-17"),
            "Only employees send messages",
        ),
        (
            "employee not serving",
            send_frame("request.send", {"request_id": cw.request_id}, "refused-18"),
            "Request not found.",
        ),
        (
            "admin",
            send_frame("request.send", {"request_id": cw.request_id}, "refused-19"),
            "Request not found.",
        ),
        (
            "visitor A",
            send_frame("request.send", {"request_id": cw.request_id}, "refused-20"),
            "Only employees send messages",
        ),
    ]
    assert {frame["type"] for _, frame, _ in cases} == COMMANDS
    with contextlib.ExitStack() as stack:
        sockets = Sockets(cw.world, stack)
        failures = []
        for role, frame, detail in cases:
            socket = sockets.by_role[role]
            socket.send(frame)
            reply = error_reply(socket)
            if reply.get("type") != "error" or detail not in reply.get("detail", ""):
                failures.append(f"{role} sent {frame}: got {reply}")
        # The call's own parties can use it: the refusals above are about the sender.
        sockets.by_role["visitor A"].send(signal("allowed-signal"))
        sockets.wait_for("serving employee", mentions("allowed-signal", "call.signal"))
        sockets.by_role["visitor A"].send(signal("allowed-frames", "cobrowse.frames"))
        sockets.wait_for("serving employee", mentions("allowed-frames", "cobrowse.frames"))
        sockets.by_role["serving employee"].send(signal("allowed-control", "cobrowse.control"))
        sockets.wait_for("visitor A", mentions("allowed-control", "cobrowse.control"))

        sockets.drain()
        for role in ALL_ROLES:
            seen = sockets.by_role[role].seen
            failures += [f"{role} got {f}" for f in seen if mentions("refused-")(f)]
            failures += [f"{role} got {f}" for f in seen if f.get("type") == "typing"]
        assert failures == []


BIG_SIGNAL = "s" * (65 * 1024)
BIG_PAGE = "p" * (4 * 1024 * 1024 + 1024)


def test_malformed_frames_get_an_error_and_change_nothing(quiet_server: LiveServer) -> None:
    cw = call_world(quiet_server)
    call_id = cw.call_id

    def typing(room_id: Any) -> str:
        return json.dumps({"type": "typing", "room_id": room_id})

    def signal(call: Any, data: Any, kind: str = "call.signal") -> str:
        return json.dumps({"type": kind, "call_id": call, "data": data})

    marker = {"marker": "malformed"}
    # (who sends, the raw text frame, the error they get back)
    cases: list[tuple[str, str, str]] = [
        ("serving employee", "{not json", "Not JSON."),
        ("visitor A", "", "Not JSON."),
        ("serving employee", '{"type": "launch-rockets"}', "Unknown command 'launch-rockets'."),
        ("serving employee", '{"room_id": 1}', "Unknown command None."),
        ("serving employee", '{"type": 5}', "Unknown command 5."),
        ("serving employee", '{"type": ["typing"]}', "Unknown command"),
        ("visitor A", '{"type": "hello", "last_event_id": 0}', "Unknown command 'hello'."),
        ("serving employee", '{"type": "typing"}', "typing needs a room_id."),
        ("serving employee", typing("1"), "typing needs a room_id."),
        ("serving employee", typing(True), "typing needs a room_id."),
        ("serving employee", typing(1.5), "typing needs a room_id."),
        ("serving employee", typing(None), "typing needs a room_id."),
        ("serving employee", typing({"id": 1}), "typing needs a room_id."),
        ("serving employee", typing(-1), "Room not found."),
        ("serving employee", typing(0), "Room not found."),
        ("serving employee", typing(2**70), "Room not found."),
        ("serving employee", typing(2**31), "Room not found."),
        ("serving employee", json.dumps({"type": "call.signal", "call_id": call_id}), "needs"),
        ("serving employee", signal(call_id, ["marker", "malformed"]), "needs call_id and data"),
        ("serving employee", signal(call_id, "malformed"), "needs call_id and data"),
        ("serving employee", signal(str(call_id), marker), "needs call_id and data"),
        ("serving employee", signal(True, marker), "needs call_id and data"),
        ("serving employee", signal(float(call_id), marker), "needs call_id and data"),
        ("serving employee", signal(2**70, marker), "Call not found."),
        ("visitor A", signal(call_id, {**marker, "sdp": BIG_SIGNAL}), "Message too large."),
        (
            "visitor A",
            signal(call_id, {**marker, "page": BIG_PAGE}, "cobrowse.frames"),
            "Message too large.",
        ),
        ("serving employee", signal(None, marker, "cobrowse.control"), "needs call_id and data"),
        # Relayed data fits its command's schema too: the other party's page acts on it.
        ("visitor A", signal(call_id, marker, "cobrowse.frames"), "data with events"),
        ("visitor A", signal(call_id, {"events": marker}, "cobrowse.frames"), "data with events"),
        ("serving employee", signal(call_id, marker, "cobrowse.control"), "with an action"),
        (
            "serving employee",
            signal(call_id, {"action": "malformed"}, "cobrowse.control"),
            "with an action",
        ),
        (
            "serving employee",
            signal(call_id, {"action": "click", "id": True, **marker}, "cobrowse.control"),
            "with an action",
        ),
        (
            "serving employee",
            signal(call_id, {"action": "scroll", "dy": 2**70, **marker}, "cobrowse.control"),
            "with an action",
        ),
    ]
    with contextlib.ExitStack() as stack:
        sockets = Sockets(cw.world, stack)
        failures = []
        for role, text, detail in cases:
            socket = sockets.by_role[role]
            socket.ws.send(text)
            reply = error_reply(socket)
            if reply.get("type") != "error" or detail not in reply.get("detail", ""):
                failures.append(f"{role} sent {text[:80]!r}: got {reply}")
        # Both sockets still work after all that.
        sockets.by_role["visitor A"].send(
            {"type": "call.signal", "call_id": call_id, "data": {"marker": "still-works"}}
        )
        sockets.wait_for("serving employee", mentions("still-works", "call.signal"))
        assert cw.world.visitors["visitor A"].send("marker-after").status_code == 201
        sockets.wait_for("serving employee", mentions("marker-after", "request.message"))

        sockets.drain()
        for role in ALL_ROLES:
            seen = sockets.by_role[role].seen
            failures += [f"{role} got {f}" for f in seen if mentions("malformed")(f)]
            failures += [f"{role} got {f}" for f in seen if f.get("type") == "typing"]
        assert failures == []


UNREADABLE_FRAMES: list[tuple[str, str | bytes]] = [
    ("a JSON array", "[1, 2]"),
    ("a JSON string", '"typing"'),
    ("JSON null", "null"),
    ("a binary frame", b'{"type": "typing", "room_id": 1}'),
    ("JSON nested deeper than the parser goes", "[" * 100_000 + "]" * 100_000),
]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("name", "frame"), UNREADABLE_FRAMES, ids=[n for n, _ in UNREADABLE_FRAMES]
)
def test_frames_that_are_not_command_objects_get_an_error(
    quiet_server: LiveServer, name: str, frame: str | bytes
) -> None:
    anna = quiet_server.login("anna")
    with anna.socket() as tab:
        tab.ws.send(frame)
        reply = error_reply(tab)
        assert reply["type"] == "error", f"{name}: {reply}"
        tab.send({"type": "launch-rockets"})
        assert error_reply(tab)["type"] == "error"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_frame_the_server_cannot_take_costs_only_its_own_socket(
    quiet_server: LiveServer,
) -> None:
    anna, boris = quiet_server.login("anna"), quiet_server.login("boris")
    room_id = new_room(anna, "boris")["id"]
    too_big = '{"type": "typing", "pad": "' + "x" * (17 * 1024 * 1024) + '"}'
    frames: list[str | bytes] = [too_big] + [frame for _, frame in UNREADABLE_FRAMES]
    with anna.socket() as steady, boris.socket() as colleague:
        for number, frame in enumerate(frames):
            with anna.socket() as tab:
                try:
                    # An error frame, or the socket closed (a frame past the size limit, which
                    # the server may cut off while it is still being sent); never silence or
                    # anything else.
                    tab.ws.send(frame)
                    reply = error_reply(tab, timeout=2)
                    assert reply["type"] == "error", reply
                except ConnectionClosed:
                    pass
            # The other tab and the colleague are untouched; new sockets are still accepted.
            body = f"after frame {number}"
            anna.http.post(f"/api/rooms/{room_id}/messages", json={"body": body})
            assert steady.event("message.created")["message"]["body"] == body
            assert colleague.event("message.created")["message"]["body"] == body
        with anna.socket() as again:
            assert again.ready["type"] == "ready"


def test_typing_is_throttled_per_employee_and_room(quiet_server: LiveServer) -> None:
    """Excess typing frames are dropped without a reply (see rooms/api.py for why)."""
    anna, boris = quiet_server.login("anna"), quiet_server.login("boris")
    room_id = new_room(anna, "boris")["id"]
    with anna.socket() as flooder, boris.socket() as colleague:
        for _ in range(30):
            flooder.send({"type": "typing", "room_id": room_id})
        # Boris is not throttled by Anna's flood.
        colleague.send({"type": "typing", "room_id": room_id})
        time.sleep(1)
        for socket in (flooder, colleague):
            with contextlib.suppress(TimeoutError):
                while True:
                    socket.receive(timeout=0.3)
        reached_boris = [f for f in colleague.seen if f.get("type") == "typing"]
        assert 1 <= len(reached_boris) <= 3
        assert [f["employee_id"] for f in flooder.seen if f.get("type") == "typing"] == [
            boris.me["id"]
        ]
        assert [f for f in flooder.seen if f.get("type") == "error"] == []
