"""The realtime gateway: this instance's WebSockets, fed from the event bus.

Protocol (JSON text frames):
  client → ``{"type": "hello", "last_event_id": N | null}`` first, ``{"type": "pong"}`` on ping,
           and commands registered by domains (``{"type": "<command>", ...}``).
  server → ``{"type": "ready", "last_event_id": N}`` once missed events are replayed,
           events ``{"id": N, "type": "...", ...}``, ``{"type": "ping"}``, ``{"type": "reset"}``
           (too far behind: reload state), ``{"type": "closed", "reason": "..."}``,
           ``{"type": "error", "detail": "...", "code": "..."}`` for a refused command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from impserver.core.config import Settings
from impserver.core.errors import DomainError
from impserver.core.unit_of_work import Database
from impserver.realtime.outbox import Envelope, events_since, latest_event_id

log = logging.getLogger(__name__)

QUEUE_LIMIT = 2000
HELLO_TIMEOUT = 10.0
PING_FRAME = '{"type":"ping"}'
HEARTBEAT_SLICES = 20


OutboxItem = tuple[int | None, str] | None


class Outbox:
    """Frames waiting for one socket's writer, in order, at most ``limit``.

    An asyncio.Queue would do, but it keeps four deques and an Event for each of thousands of
    mostly idle sockets; this keeps one deque and, only while the writer waits, one future.
    """

    __slots__ = ("_items", "_limit", "_waiter")

    def __init__(self, limit: int) -> None:
        self._items: deque[OutboxItem] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: OutboxItem) -> None:
        if len(self._items) >= self._limit:
            raise asyncio.QueueFull
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> OutboxItem:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


# Slots: one of these lives as long as each socket, ten thousand of them on a busy instance.
@dataclass(eq=False, slots=True)
class Connection:
    websocket: WebSocket
    recipient: str
    # Employees: the session this socket was opened with, so logout cuts only its sockets.
    session_token_hash: str = ""
    session_expires_at: float = float("inf")
    employee_id: int | None = None
    client_id: int | None = None
    last_sent_id: int = 0
    last_received: float = field(default_factory=time.monotonic)
    outbox: Outbox = field(default_factory=lambda: Outbox(QUEUE_LIMIT))
    closing: bool = False
    # Which of the heartbeat's slices this socket is pinged in (spread at random).
    heartbeat_slice: int = field(default_factory=lambda: random.randrange(HEARTBEAT_SLICES))

    def offer(self, event_id: int | None, frame: str) -> None:
        if self.closing:
            return
        try:
            self.outbox.put_nowait((event_id, frame))
        except asyncio.QueueFull:
            # A consumer this far behind reconnects and resumes from the database instead.
            log.warning("socket of %s is too slow; closing it", self.recipient)
            self.close_soon(1013, "overloaded")

    def close_soon(self, code: int = 1000, reason: str = "", notice: str | None = None) -> None:
        if self.closing:
            return
        self.closing = True
        if notice:
            frame = json.dumps({"type": "closed", "reason": notice})
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.put_nowait((None, frame))
        asyncio.get_running_loop().create_task(self._close_after_flush(code, reason))

    async def _close_after_flush(self, code: int, reason: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.outbox.put_nowait(None)
        await asyncio.sleep(0.5)
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)


def _parse_command(message: Any) -> tuple[dict[str, Any] | None, str]:
    """The command object in a received frame, or why there is none.

    Every frame that is not a command gets an answer instead of silence or a dropped socket,
    so a client with a bug learns what it sent wrong and its other commands keep working.
    """
    text = message.get("text")
    if text is None:
        return None, "Frames must be JSON text, not binary."
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser goes is just as unreadable.
        return None, "Not JSON."
    if not isinstance(data, dict):
        return None, "A command must be a JSON object."
    return data, ""


CommandHandler = Callable[[Connection, dict[str, Any]], Awaitable[None]]
SessionCheck = Callable[[Connection], Awaitable[bool]]


class Gateway:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._by_recipient: dict[str, set[Connection]] = defaultdict(set)
        self._commands: dict[str, CommandHandler] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self.session_check: SessionCheck | None = None
        # Called when a recipient's last socket on this instance closes (e.g. to end their calls).
        self.on_last_disconnect: list[Callable[[Connection], Awaitable[None]]] = []
        self.on_connect: list[Callable[[Connection], Awaitable[None]]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.db.bus.start(self.deliver, self.resync)
        self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="gateway-heartbeat")

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        for connection in list(self.connections()):
            connection.close_soon(1012, "server restarting")
        await self.db.bus.stop()

    def connections(self) -> list[Connection]:
        return [c for conns in self._by_recipient.values() for c in conns]

    @property
    def connection_count(self) -> int:
        return sum(len(conns) for conns in self._by_recipient.values())

    def command(self, name: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            self._commands[name] = handler
            return handler

        return register

    # -- delivery --------------------------------------------------------------------------

    def deliver(self, envelope: Envelope) -> None:
        if envelope.control:
            self._apply_control(envelope)
            return
        for recipient in envelope.recipients:
            for connection in self._by_recipient.get(recipient, ()):
                connection.offer(envelope.event_id, envelope.frame)

    def _apply_control(self, envelope: Envelope) -> None:
        instruction = envelope.control or ""
        if not instruction.startswith("revoke:"):
            log.warning("unknown gateway instruction %r", instruction)
            return
        _, scope, *rest = instruction.split(":", 2)
        token_hash = rest[0] if rest else ""
        for recipient in envelope.recipients:
            for connection in list(self._by_recipient.get(recipient, ())):
                matches = (
                    scope == "all"
                    or (scope == "only" and connection.session_token_hash == token_hash)
                    or (scope == "except" and connection.session_token_hash != token_hash)
                )
                if matches:
                    connection.close_soon(4401, "session revoked", notice="session_revoked")

    async def resync(self) -> None:
        """After a bus outage, send every local socket what it may have missed meanwhile."""
        for connection in self.connections():
            try:
                async with self.db.read() as session:
                    replay = await events_since(
                        session, connection.recipient, connection.last_sent_id
                    )
            except Exception:
                log.exception("resync of %s failed", connection.recipient)
                continue
            if replay.too_old:
                connection.offer(None, '{"type":"reset"}')
                continue
            for event_id, frame in replay.frames:
                if event_id > connection.last_sent_id:
                    connection.offer(event_id, frame)

    # -- one socket ------------------------------------------------------------------------

    async def serve(self, connection: Connection) -> None:
        """Run an accepted, authenticated socket until it closes."""
        websocket = connection.websocket
        try:
            first = await asyncio.wait_for(websocket.receive(), timeout=HELLO_TIMEOUT)
        except (TimeoutError, RuntimeError):
            await self._close(websocket, 4400, "expected hello")
            return
        hello = _parse_command(first)[0] if first["type"] == "websocket.receive" else None
        if hello is None or hello.get("type") != "hello":
            await self._close(websocket, 4400, "expected hello")
            return
        last_event_id = hello.get("last_event_id")
        # This frame lives as long as the socket: keep only what it needs.
        del first, hello
        self._by_recipient[connection.recipient].add(connection)
        for callback in self.on_connect:
            try:
                await callback(connection)
            except Exception:
                log.exception("connect handler failed")
        writer: asyncio.Task[None] | None = None
        try:
            await self._send_backlog(connection, last_event_id)
            writer = asyncio.create_task(self._write(connection))
            await self._read(connection)
        finally:
            self._by_recipient[connection.recipient].discard(connection)
            if not self._by_recipient[connection.recipient]:
                self._by_recipient.pop(connection.recipient, None)
                for callback in self.on_last_disconnect:
                    try:
                        await callback(connection)
                    except Exception:
                        log.exception("disconnect handler failed")
            connection.closing = True
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writer

    async def _send_backlog(self, connection: Connection, last_event_id: Any) -> None:
        websocket = connection.websocket
        async with self.db.read() as session:
            if isinstance(last_event_id, int) and last_event_id >= 0:
                replay = await events_since(session, connection.recipient, last_event_id)
                if replay.too_old:
                    await websocket.send_text('{"type":"reset"}')
                for event_id, frame in replay.frames:
                    await websocket.send_text(frame)
                    connection.last_sent_id = max(connection.last_sent_id, event_id)
            latest = await latest_event_id(session, connection.recipient)
        connection.last_sent_id = max(connection.last_sent_id, latest)
        await websocket.send_text(json.dumps({"type": "ready", "last_event_id": latest}))

    async def _write(self, connection: Connection) -> None:
        websocket = connection.websocket
        while True:
            item = await connection.outbox.get()
            if item is None:
                return
            event_id, frame = item
            try:
                await websocket.send_text(frame)
            except Exception:
                return
            if event_id is not None and event_id > connection.last_sent_id:
                connection.last_sent_id = event_id

    async def _read(self, connection: Connection) -> None:
        websocket = connection.websocket
        while True:
            try:
                message = await websocket.receive()
            except RuntimeError:
                return
            if message["type"] == "websocket.disconnect":
                return
            connection.last_received = time.monotonic()
            data, refusal = _parse_command(message)
            if data is None:
                connection.offer(
                    None, json.dumps({"type": "error", "detail": refusal, "code": "bad_frame"})
                )
                continue
            kind = data.get("type")
            if kind in ("pong", "ping"):
                continue
            handler = self._commands.get(str(kind))
            if handler is None:
                connection.offer(
                    None,
                    json.dumps(
                        {
                            "type": "error",
                            "detail": f"Unknown command {kind!r}.",
                            "code": "unknown_command",
                        }
                    ),
                )
                continue
            try:
                await handler(connection, data)
            except DomainError as exc:
                connection.offer(
                    None,
                    json.dumps(
                        {
                            "type": "error",
                            **exc.body(),
                            "command": kind,
                            "ref": data.get("ref"),
                        }
                    ),
                )
            except Exception:
                log.exception("socket command %s failed", kind)
                connection.offer(
                    None,
                    json.dumps(
                        {"type": "error", "detail": "Something went wrong.", "code": "internal"}
                    ),
                )

    async def _close(self, websocket: WebSocket, code: int, reason: str) -> None:
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code, reason)

    # -- liveness --------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        # Each socket is pinged once per ws_ping_seconds, but a slice of them at a time: pinging
        # thousands at once (and reading their pongs) would stall every delivery of that moment.
        tick = 0
        while True:
            await asyncio.sleep(self.settings.ws_ping_seconds / HEARTBEAT_SLICES)
            tick = (tick + 1) % HEARTBEAT_SLICES
            now = time.monotonic()
            wall = time.time()
            for connection in self.connections():
                if connection.heartbeat_slice != tick:
                    continue
                if now - connection.last_received > self.settings.ws_dead_after_seconds:
                    connection.close_soon(4408, "no heartbeat")
                    continue
                if wall > connection.session_expires_at and self.session_check is not None:
                    try:
                        still_valid = await self.session_check(connection)
                    except Exception:
                        log.exception("session check failed")
                        still_valid = True
                    if not still_valid:
                        connection.close_soon(4401, "session expired", notice="session_expired")
                        continue
                connection.offer(None, PING_FRAME)
