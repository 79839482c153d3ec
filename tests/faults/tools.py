"""Faults on demand: a private Redis that can be killed, a TCP proxy that can be cut, and a
socket client that behaves like the real ones (answers pings, reconnects, resumes by id)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import redis
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from impserver.channels.widget.visitors import SOCKET_PROTOCOL
from tests.harness import Session, free_port
from tests.widget import Visitor

T = TypeVar("T")
Frame = dict[str, Any]

# Event types that carry a chat message, as the workspace and the widget read them.
MESSAGE_EVENTS = ("message.created", "request.message")


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class PrivateRedis:
    """A throw-away ``redis-server`` of this test alone, so killing it disturbs no other test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            wait_until(lambda: self._answers(client), 10, f"redis-server on port {self.port}")
        finally:
            client.close()
        return self

    def _answers(self, client: redis.Redis) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.process.returncode}")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        """Die at once, as in a crash: no shutdown, connections simply drop."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        self.process = None


# How asyncpg ends a transaction: a simple-protocol Query message carrying ``COMMIT;``.
COMMIT_QUERY = b"Q\x00\x00\x00\x0cCOMMIT;\x00"


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    marked: bool = False
    losing_reply: bool = False
    # The SQL of each statement this connection prepared: a prepared statement is run later by
    # its name alone, so a marker in its SQL is recognised by the name as well.
    prepared: dict[bytes, bytes] = field(default_factory=dict)

    def sends(self, data: bytes, marker: bytes | None) -> bool:
        """Note what ``data`` prepares; whether it carries ``marker`` in SQL or runs a statement
        prepared with it."""
        found = marker is not None and marker in data
        for kind, body in _messages(data):
            if kind == b"P":
                name, _, rest = body.partition(b"\x00")
                self.prepared[name] = rest.partition(b"\x00")[0]
            elif kind == b"B" and marker is not None:
                _portal, _, rest = body.partition(b"\x00")
                found = found or marker in self.prepared.get(rest.partition(b"\x00")[0], b"")
        return found

    def abort(self) -> None:
        # abort() resets the connection instead of a polite close, as a broken link would.
        self.client.transport.abort()
        self.upstream.transport.abort()


def _messages(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The frontend messages in ``data`` (type byte, body), as far as they are whole."""
    at = 0
    while at + 5 <= len(data):
        length = int.from_bytes(data[at + 1 : at + 5], "big")
        if length < 4 or at + 1 + length > len(data):
            return
        yield data[at : at + 1], data[at + 5 : at + 1 + length]
        at += 1 + length


@dataclass(frozen=True)
class _CommitTrap:
    marker: bytes
    committed: bool


class TcpProxy:
    """Forwards a local port to ``target_port`` and can break the way a network does.

    ``cut()`` drops every open connection and keeps new ones out until ``restore()``;
    ``break_at_commit()`` cuts in the middle of one chosen PostgreSQL transaction;
    ``swallow_next_reply()`` lets the next request through but loses its answer on the way back.
    It runs its own event loop in a thread, independent of the servers and of the test.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.is_cut = False
        self.swallowed = 0
        self.trips = 0
        self._swallow_next = False
        self._trap: _CommitTrap | None = None
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._drop_all(refuse=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def cut(self, *, refuse: bool = True) -> None:
        """Drop every open connection. New ones are refused (nothing listens), or with
        ``refuse=False`` accepted and dropped at once, as a failing server or middlebox does."""
        self.is_cut = True
        self._call(self._drop_all(refuse=refuse))

    def restore(self) -> None:
        self.is_cut = False
        if self._server is None:
            self._call(self._listen())

    def break_at_commit(self, marker: bytes, *, committed: bool) -> None:
        """Cut the link (as ``cut()``) when the first transaction that sends ``marker`` commits:
        before the database has the COMMIT (nothing happened), or once it has committed but
        before the answer gets back (it all happened, and the caller cannot know)."""
        self._trap = _CommitTrap(marker, committed)

    def swallow_next_reply(self) -> None:
        self._swallow_next = True

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _drop_all(self, *, refuse: bool) -> None:
        if refuse and self._server is not None:
            # Nothing listening: connecting fails at once with ECONNREFUSED.
            self._server.close()
            self._server = None
        for link in list(self._links):
            link.abort()
        self._links.clear()

    async def _trip(self) -> None:
        self.trips += 1
        self.is_cut = True
        await self._drop_all(refuse=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._requests(reader, link), self._replies(up_reader, link))
        finally:
            self._links.discard(link)
            link.abort()

    async def _requests(self, reader: asyncio.StreamReader, link: _Link) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                trap = self._trap
                if link.sends(data, trap.marker if trap is not None else None):
                    link.marked = True
                if trap is not None and link.marked and COMMIT_QUERY in data:
                    self._trap = None
                    if not trap.committed:
                        await self._trip()
                        return
                    link.losing_reply = True
                link.upstream.write(data)
                await link.upstream.drain()
            link.upstream.write_eof()

    async def _replies(self, reader: asyncio.StreamReader, link: _Link) -> None:
        swallowing = False
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if link.losing_reply:
                    # The database has answered the COMMIT: it is done, and nobody will know.
                    await self._trip()
                    return
                if self._swallow_next:
                    self._swallow_next = False
                    swallowing = True
                    self.swallowed += 1
                if swallowing:
                    continue
                link.client.write(data)
                await link.client.drain()
            if not swallowing:
                link.client.write_eof()


class Tab:
    """One open workspace tab or widget: a socket read in the background like the real clients
    do. It answers pings, keeps every frame, and when the socket drops it reconnects and resumes
    from the last event id it has seen."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        last_event_id: int | None = None,
        subprotocols: list[str] | None = None,
    ) -> None:
        self.url = url
        self.headers = headers or {}
        self.subprotocols = [Subprotocol(p) for p in subprotocols] if subprotocols else None
        self.frames: list[Frame] = []
        self.last_event_id = last_event_id
        self.connects = 0
        self.drops = 0
        self.errors: list[str] = []
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._ws: ClientConnection | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout: float = 10, *, wait: bool = True) -> Tab:
        self._thread.start()
        if wait and not self._ready.wait(timeout):
            raise AssertionError(f"socket {self.url} never became ready")
        return self

    def stop(self) -> None:
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()
        self._thread.join(timeout=10)

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def reconnect(self) -> None:
        """Drop the socket from the client's side (a network blip); the tab comes back alone."""
        ws = self._ws
        if ws is not None:
            ws.close()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                with connect(
                    self.url,
                    additional_headers=self.headers,
                    subprotocols=self.subprotocols,
                    open_timeout=5,
                ) as ws:
                    ws.send(json.dumps({"type": "hello", "last_event_id": self.last_event_id}))
                    self._ws = ws
                    self._read(ws)
            except Exception as exc:  # whatever broke, a real client tries again
                self.errors.append(repr(exc))
            finally:
                if self._ws is not None:
                    self.drops += 1
                self._ws = None
            # The real clients back off too; short here to keep the tests quick.
            self._stopped.wait(0.3)

    def _read(self, ws: ClientConnection) -> None:
        for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "ping":
                ws.send('{"type":"pong"}')
                continue
            with self._lock:
                self.frames.append(frame)
                if isinstance(frame.get("id"), int):
                    self.last_event_id = max(self.last_event_id or 0, frame["id"])
                elif kind == "ready":
                    self.last_event_id = max(self.last_event_id or 0, frame["last_event_id"])
            if kind == "ready":
                self.connects += 1
                self._ready.set()

    def snapshot(self) -> list[Frame]:
        with self._lock:
            return list(self.frames)

    def messages(self, room_id: int | None = None) -> list[Frame]:
        """Every message frame received (of one room, or all), duplicates included."""
        return [
            f["message"]
            for f in self.snapshot()
            if f.get("type") in MESSAGE_EVENTS
            and "message" in f
            and room_id in (None, f["message"]["room_id"])
        ]

    def message_counts(self, room_id: int | None = None) -> dict[int, int]:
        """How often each message arrived as a *distinct event*: the client drops an event id it
        has seen, so only two different events about one message would show it twice."""
        seen_events: set[int] = set()
        counts: dict[int, int] = {}
        for frame in self.snapshot():
            if frame.get("type") not in MESSAGE_EVENTS or "message" not in frame:
                continue
            if frame["id"] in seen_events or room_id not in (None, frame["message"]["room_id"]):
                continue
            seen_events.add(frame["id"])
            message_id = frame["message"]["id"]
            counts[message_id] = counts.get(message_id, 0) + 1
        return counts

    def bodies(self, room_id: int | None = None) -> set[str]:
        return {m["body"] for m in self.messages(room_id)}

    def wait_for_bodies(self, bodies: set[str], timeout: float = 10) -> None:
        try:
            wait_until(lambda: bodies <= self.bodies(), timeout, "messages")
        except AssertionError as failed:
            raise AssertionError(
                f"{self.url} is missing {bodies - self.bodies()} after {timeout}s "
                f"(ready {self.connects} times, errors {self.errors[-3:]}, "
                f"frames {self.snapshot()[-5:]})"
            ) from failed


def employee_tab(session: Session, *, wait: bool = True) -> Tab:
    return Tab(session.server.ws_url, {"Cookie": session.cookie_header}).start(wait=wait)


def visitor_tab(visitor: Visitor) -> Tab:
    return Tab(
        f"{visitor.server.ws_url}/widget", subprotocols=[SOCKET_PROTOCOL, visitor.token]
    ).start()


@contextlib.contextmanager
def tabs(*opened: Tab) -> Iterator[tuple[Tab, ...]]:
    try:
        yield opened
    finally:
        for tab in opened:
            tab.stop()
