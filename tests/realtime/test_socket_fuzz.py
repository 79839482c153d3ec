"""Random JSON at every socket command of both socket kinds: each frame gets an error frame (or
is taken, or closes its own socket cleanly), and every other party's socket keeps receiving.

A seeded generator, so a failure names the seed and the frame and can be replayed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from impserver.channels.widget.visitors import SOCKET_PROTOCOL
from impserver.demo import seed_demo
from tests.api.test_calls import invite
from tests.harness import LiveServer, Session, Socket, free_port
from tests.widget import Visitor, visit

SEED = 20261203
EXAMPLES_PER_COMMAND = 25
COMMANDS = ["typing", "call.signal", "cobrowse.frames", "cobrowse.control"]
PROBE = {"type": "fuzz-probe"}
# Closing is a clean answer only with these codes: the client's frame was refused.
CLEAN_CLOSES = {1000, 1003, 1007, 1008, 1009, 1011, 4400}


class JsonFuzzer:
    """Values a client could send: odd text, huge and odd numbers, wrong types, deep nesting."""

    STRINGS = [
        "",
        "\ud800",
        "a\udfffb",
        "\ud83d",
        "\x00",
        "\u202e",
        "é" * 1000,
        "x" * 70_000,
        "😀",
        "null",
        "1",
        "<script>alert(1)</script>",
    ]
    NUMBERS = [0, -1, 1, 2**31, 2**63, 2**70, -(2**70), 1.5, 1e308, -0.0, 10**300]

    def __init__(self, seed: int, call_ids: list[int], room_ids: list[int]) -> None:
        self.random = random.Random(seed)
        self.ids = call_ids + room_ids

    def scalar(self) -> Any:
        pick = self.random.random()
        if pick < 0.3:
            return self.random.choice(self.STRINGS)
        if pick < 0.55:
            return self.random.choice(self.NUMBERS)
        if pick < 0.7:
            return self.random.choice(self.ids)
        if pick < 0.85:
            return self.random.choice([True, False, None])
        return "".join(chr(self.random.randrange(0x20, 0x3000)) for _ in range(8))

    def value(self, depth: int = 0) -> Any:
        pick = self.random.random()
        if depth > 3 or pick < 0.5:
            return self.scalar()
        if pick < 0.6:
            return self.deep()
        if pick < 0.8:
            return [self.value(depth + 1) for _ in range(self.random.randrange(4))]
        return {self.key(): self.value(depth + 1) for _ in range(self.random.randrange(4))}

    def key(self) -> str:
        return self.random.choice(
            ["data", "events", "action", "id", "value", "x", "dx", "sdp", "\ud800", "type", ""]
        )

    def deep(self) -> Any:
        nested: Any = self.scalar()
        for _ in range(self.random.choice([50, 300, 900])):
            nested = [nested] if self.random.random() < 0.5 else {"a": nested}
        return nested

    def data(self) -> Any:
        """Mostly shaped like a relay's data, often not."""
        pick = self.random.random()
        if pick < 0.25:
            return {"events": [self.value() for _ in range(self.random.randrange(3))]}
        if pick < 0.5:
            actions = ["click", "input", "scroll", "pointer", "snapshot", "\ud800", 1]
            data = {"action": self.random.choice(actions)}
            for field in self.random.sample(["id", "value", "x", "y", "dx", "dy"], 2):
                data[field] = self.scalar()
            return data
        if pick < 0.7:
            return {self.key(): self.value() for _ in range(self.random.randrange(4))}
        return self.value()

    def frame(self, command: str) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": command}
        for field, make in (
            ("call_id", self.scalar),
            ("room_id", self.scalar),
            ("data", self.data),
            (self.key(), self.value),
        ):
            if self.random.random() < 0.75:
                frame[field] = make()
        return frame

    def hello(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "hello"}
        if self.random.random() < 0.9:
            frame["last_event_id"] = self.value()
        if self.random.random() < 0.3:
            frame[self.key()] = self.value()
        return frame


def encode(frame: Any) -> str:
    # As JSON.stringify writes it (surrogates escaped); deep nesting needs no recursion limit.
    return json.dumps(frame, check_circular=False)


@pytest.fixture
def quiet_server(backend: str, settings_factory: Any) -> Iterator[LiveServer]:
    settings = settings_factory(backend, ws_ping_seconds=30.0, ws_dead_after_seconds=120.0)
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()


class Sender:
    """One party's socket, opened again whenever the server closed it (cleanly)."""

    def __init__(self, party: Session | Visitor, stack: contextlib.ExitStack) -> None:
        self.party = party
        self.stack = stack
        self.socket = self._open()
        self.closes: list[int | None] = []

    def _open(self) -> Socket:
        return self.stack.enter_context(self.party.socket())

    def answer(self, text: str) -> list[dict[str, Any]]:
        """Send ``text`` and then a probe that is always refused; what came back in between.
        An empty list (and a reopened socket) if the server closed the socket instead."""
        try:
            self.socket.ws.send(text)
            self.socket.send(PROBE)
            seen = len(self.socket.seen)
            self.socket.receive_until(
                lambda f: f.get("type") == "error" and "fuzz-probe" in f.get("detail", ""),
                timeout=10,
            )
            return self.socket.seen[seen:-1]
        except ConnectionClosed as closed:
            self.closes.append(closed.rcvd.code if closed.rcvd else None)
            self.socket = self._open()
            return []


def marker_reaches(anna: Session, sockets: list[Socket], marker: str) -> None:
    """A room message from Anna reaches each of ``sockets`` (employees in the room)."""
    for socket in sockets:
        socket.receive_until(
            lambda f: (
                f.get("type") == "message.created" and f.get("message", {}).get("body") == marker
            ),
            timeout=10,
        )


def test_random_frames_at_every_command_get_an_answer_and_hurt_no_one_else(
    quiet_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = quiet_server
    anna, visitor, _, call = invite(server, "cobrowse")
    boris = server.login("boris")
    room = anna.http.post("/api/rooms", json={"name": "Fuzz", "member_ids": [boris.me["id"]]})
    assert room.status_code == 201, room.text
    room_id = room.json()["id"]
    bystander = visit(server)
    fuzzer = JsonFuzzer(SEED, [call["id"]], [room_id])
    failures: list[str] = []
    with contextlib.ExitStack() as stack:
        senders = {"employee": Sender(anna, stack), "visitor": Sender(visitor, stack)}
        boris_tab = stack.enter_context(boris.socket())
        bystander_widget = stack.enter_context(bystander.socket())
        for round_number in range(EXAMPLES_PER_COMMAND):
            for command in COMMANDS:
                for kind, sender in senders.items():
                    frame = fuzzer.frame(command)
                    text = encode(frame)
                    for reply in sender.answer(text):
                        # Anything else it receives is an event or the relay of a frame that
                        # fitted its schema; an error must be an answer, never a crash.
                        if reply.get("type") == "error" and reply.get("detail") == (
                            "Something went wrong."
                        ):
                            failures.append(f"{kind} {text[:200]!r}: {reply}")
            # The others keep receiving: Boris in the room, a visitor of another request.
            marker = f"fuzz round {round_number}"
            assert (
                anna.http.post(f"/api/rooms/{room_id}/messages", json={"body": marker}).status_code
                == 201
            )
            marker_reaches(anna, [boris_tab], marker)
            assert bystander.send(marker).status_code == 201
            bystander_widget.receive_until(
                lambda f, m=marker: (
                    f.get("type") == "message.created"  # type: ignore[misc]
                    and f["message"]["body"] == m
                ),
                timeout=10,
            )
        # Bad first frames: refused with an error frame, the socket closed with 4400.
        for kind, party in (("employee", anna), ("visitor", visitor)):
            for _ in range(EXAMPLES_PER_COMMAND):
                hello = fuzzer.hello()
                frames, code = _hello(server, party, encode(hello))
                good = hello.get("last_event_id") is None or (
                    type(hello.get("last_event_id")) is int and 0 <= hello["last_event_id"] < 2**63
                )
                if good and frames and frames[-1].get("type") in ("ready", "reset"):
                    continue
                if not good and code == 4400 and [f.get("type") for f in frames] == ["error"]:
                    continue
                failures.append(f"{kind} hello {encode(hello)[:200]!r}: {frames} then {code}")
        for kind, sender in senders.items():
            failures += [
                f"{kind} socket closed with {c}" for c in sender.closes if c not in CLEAN_CLOSES
            ]
        # Both parties' own sockets still work after all that.
        senders["visitor"].socket.send(
            {"type": "call.signal", "call_id": call["id"], "data": {"after": "fuzz"}}
        )
        senders["employee"].socket.receive_until(
            lambda f: f.get("type") == "call.signal" and f["data"] == {"after": "fuzz"},
            timeout=10,
        )
    crashes = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("impserver")
    ]
    assert failures == [] and crashes == []


def _hello(server: LiveServer, party: Session | Visitor, text: str) -> tuple[list[Any], int | None]:
    from websockets.sync.client import connect

    subprotocols: list[Subprotocol] | None = None
    if isinstance(party, Session):
        url, headers = server.ws_url, {"Cookie": party.cookie_header}
    else:
        url, headers = f"{server.ws_url}/widget", {}
        subprotocols = [Subprotocol(SOCKET_PROTOCOL), Subprotocol(party.token)]
    frames: list[Any] = []
    with connect(url, additional_headers=headers, subprotocols=subprotocols, open_timeout=5) as ws:
        ws.send(text)
        try:
            while True:
                frame = json.loads(ws.recv(timeout=5))
                frames.append(frame)
                if frame.get("type") in ("ready", "reset"):
                    return frames, None
        except ConnectionClosed as closed:
            return frames, closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            return frames, None
