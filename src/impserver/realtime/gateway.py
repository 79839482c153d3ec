"""The realtime gateway: this instance's WebSockets, fed from the event bus.

Protocol (JSON text frames):
  client → ``{"type": "hello", "last_event_id": N | null}`` first, ``{"type": "pong"}`` on ping,
           and commands registered by domains (``{"type": "<command>", ...}``), each checked
           against its command's schema (a Pydantic model) before its handler sees it.
  server → ``{"type": "ready", "last_event_id": N}`` once missed events are replayed,
           events ``{"id": N, "type": "...", ...}``, ``{"type": "ping"}``, ``{"type": "reset"}``
           (too far behind: reload state), ``{"type": "closed", "reason": "..."}``,
           ``{"type": "error", "detail": "...", "code": "..."}`` for a refused command (with
           the command's name and, if the command carried one, its ``ref``), and the answers
           commands give their sender, such as ``{"type": "ack", "ref": "...", ...}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sys
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictInt, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from impserver.core.config import Settings
from impserver.core.errors import DomainError, error_response
from impserver.core.metrics import EVENTS_DELIVERED, SOCKETS_OPEN, socket_kind
from impserver.core.unit_of_work import Database
from impserver.realtime.outbox import Envelope, events_since, latest_event_id

log = logging.getLogger(__name__)

QUEUE_LIMIT = 2000
# Frames waiting for one socket, in bytes of memory: a viewer that cannot keep up with a shared
# page must not make the server hold gigabytes for it. Frames that may be dropped (a lane, such as
# one co-browsing session's page changes) get only part of it, so that dropping them leaves room
# for everything else the socket is owed.
QUEUE_BYTES_LIMIT = 24 * 1024 * 1024
LANE_BYTES_LIMIT = 8 * 1024 * 1024
HELLO_TIMEOUT = 10.0
PING_FRAME = '{"type":"ping"}'
HEARTBEAT_SLICES = 20
# The reason of the ``closed`` notice that asks a client to reconnect at once.
RESTARTING = "restarting"


# (event id or None, frame, lane or None); None alone tells the writer to stop.
OutboxItem = tuple[int | None, str, str | None] | None


class OutboxFull(asyncio.QueueFull):
    """The socket's queue is at its limit for frames that must not be dropped."""


class Outbox:
    """Frames waiting for one socket's writer, in order, at most ``limit`` of them and
    ``byte_limit`` bytes.

    An asyncio.Queue would do, but it keeps four deques and an Event for each of thousands of
    mostly idle sockets; this keeps one deque and, only while the writer waits, one future.
    """

    __slots__ = ("_byte_limit", "_items", "_lane_limit", "_limit", "_waiter", "size")

    def __init__(
        self,
        limit: int,
        byte_limit: int = QUEUE_BYTES_LIMIT,
        lane_limit: int = LANE_BYTES_LIMIT,
    ) -> None:
        self._items: deque[OutboxItem] = deque()
        self._limit = limit
        self._byte_limit = byte_limit
        self._lane_limit = lane_limit
        self._waiter: asyncio.Future[None] | None = None
        # Bytes of memory the queued frames take (what sys.getsizeof says of each string).
        self.size = 0

    def put_nowait(self, item: OutboxItem) -> bool:
        """Queue ``item``. False if it belongs to a lane and the lane's frames were dropped
        instead (they and it are superseded by a fresh start of the lane); OutboxFull if the
        socket is too far behind for anything else."""
        size = sys.getsizeof(item[1]) if item is not None else 0
        lane = item[2] if item is not None else None
        # Dropping only helps when the lane has a backlog: a single frame bigger than the lane's
        # share (a whole large page) still goes, within the socket's byte limit.
        if lane is not None and self.size + size > self._lane_limit and self._drop_lane(lane):
            return False
        if len(self._items) >= self._limit or self.size + size > self._byte_limit:
            raise OutboxFull
        self._items.append(item)
        self.size += size
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return True

    def _drop_lane(self, lane: str) -> int:
        """Drop the lane's queued frames; how many there were."""
        kept: deque[OutboxItem] = deque()
        for item in self._items:
            if item is not None and item[2] == lane:
                self.size -= sys.getsizeof(item[1])
            else:
                kept.append(item)
        dropped = len(self._items) - len(kept)
        self._items = kept
        return dropped

    async def get(self) -> OutboxItem:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if item is not None:
            self.size -= sys.getsizeof(item[1])
        return item


# Closes under way (see Connection.close_soon).
_CLOSING: set[asyncio.Task[None]] = set()


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

    def offer(self, event_id: int | None, frame: str, lane: str | None = None) -> bool:
        """Queue a frame for this socket. False if it was not queued: the socket is closing,
        or ``frame`` belongs to a lane this socket is too far behind in, whose queued frames
        were dropped (the caller arranges a fresh start of that lane)."""
        if self.closing:
            return False
        try:
            return self.outbox.put_nowait((event_id, frame, lane))
        except OutboxFull:
            # A consumer this far behind reconnects and resumes from the database instead.
            log.warning("socket of %s is too slow; closing it", self.recipient)
            self.close_soon(1013, "overloaded")
            return False

    def close_soon(self, code: int = 1000, reason: str = "", notice: str | None = None) -> None:
        if self.closing:
            return
        self.closing = True
        if notice:
            frame = json.dumps({"type": "closed", "reason": notice})
            with contextlib.suppress(OutboxFull):
                self.outbox.put_nowait((None, frame, None))
        task = asyncio.get_running_loop().create_task(self._close_after_flush(code, reason))
        # The loop keeps only a weak reference to a task: without one of ours, a close could be
        # collected half-way and leave the socket open.
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)

    async def _close_after_flush(self, code: int, reason: str) -> None:
        with contextlib.suppress(OutboxFull):
            self.outbox.put_nowait(None)
        await asyncio.sleep(0.5)
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)


# The largest event id a client can hold: ids are 64-bit database keys.
LARGEST_EVENT_ID = 2**63 - 1


class Hello(BaseModel):
    """The first frame of every socket. Other fields are ignored: a client may say more about
    itself here than this server version reads."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["hello"]
    last_event_id: Annotated[StrictInt, Field(ge=0, le=LARGEST_EVENT_ID)] | None = None


HELLO_REFUSED = (
    'The first frame must be {"type": "hello", "last_event_id": null or a non-negative '
    "64-bit integer}."
)


class SocketCommand(BaseModel):
    """Base of every command's schema: one model per command, checked before its handler runs,
    so a handler only ever sees the fields it expects, of the types it expects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # What the sender is told when the frame does not fit the schema (a default is made from
    # the schema's complaint when this is empty).
    refusal: ClassVar[str] = ""
    # The frame's length as received, in characters: what it costs to pass on.
    _received_chars: int = PrivateAttr(default=0)

    @property
    def received_chars(self) -> int:
        return self._received_chars


Command = TypeVar("Command", bound=SocketCommand)
CommandHandler = Callable[["Connection", Command], Awaitable[None]]


@dataclass(frozen=True)
class _Registered(Generic[Command]):
    schema: type[Command]
    handler: CommandHandler[Command]
    # Longest frame (in characters) this command accepts, checked before the frame is parsed.
    max_chars: int


DEFAULT_COMMAND_CHARS = 64 * 1024


def _parse_command(message: Any, max_chars: int) -> tuple[dict[str, Any] | None, str]:
    """The command object in a received frame, or why there is none.

    Every frame that is not a command gets an answer instead of silence or a dropped socket,
    so a client with a bug learns what it sent wrong and its other commands keep working.
    """
    text = message.get("text")
    if text is None:
        return None, "Frames must be JSON text, not binary."
    if len(text) > max_chars:
        return None, "Message too large."
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser goes is just as unreadable.
        return None, "Not JSON."
    if not isinstance(data, dict):
        return None, "A command must be a JSON object."
    return data, ""


def _schema_refusal(name: str, schema: type[SocketCommand], exc: ValueError) -> str:
    if schema.refusal:
        return schema.refusal
    if not isinstance(exc, ValidationError) or not exc.errors():
        return f"{name} does not fit its schema."
    # Field names and the schema's words only: the sender's own values are not echoed back.
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{name}: {where}: {first['msg']}." if where else f"{name}: {first['msg']}."


def _named(kind: Any) -> str:
    """An unknown command's name for the error frame: short, and repr'd so that it holds no
    character a text frame cannot carry."""
    if isinstance(kind, str):
        return repr(kind[:60])
    if kind is None or isinstance(kind, bool | int | float):
        return repr(kind)
    return f"(a JSON {'object' if isinstance(kind, dict) else 'array'})"


def _error_frame(detail: str, code: str, **extra: Any) -> str:
    """An ``error`` frame: the English ``detail`` is the fallback of the ``code`` the UI
    translates."""
    fields = {key: value for key, value in extra.items() if value is not None}
    return json.dumps({"type": "error", "detail": detail, "code": code, **fields})


SessionCheck = Callable[["Connection"], Awaitable[bool]]
# Called with the socket and the lane whose queued frames were dropped.
LaneDropped = Callable[["Connection", str], Awaitable[None]]


class Gateway:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._by_recipient: dict[str, set[Connection]] = defaultdict(set)
        self._commands: dict[str, _Registered[Any]] = {}
        # Nothing longer than the longest command is parsed at all.
        self._max_chars = DEFAULT_COMMAND_CHARS
        self._heartbeat: asyncio.Task[None] | None = None
        self.session_check: SessionCheck | None = None
        # Called when a recipient's last socket on this instance closes (e.g. to end their calls).
        self.on_last_disconnect: list[Callable[[Connection], Awaitable[None]]] = []
        self.on_connect: list[Callable[[Connection], Awaitable[None]]] = []
        # Set when the server is stopping: every socket is being told to reconnect elsewhere.
        self.stopping = False
        self._all_closed = asyncio.Event()
        self._lane_dropped: dict[str, LaneDropped] = {}
        self._background: set[asyncio.Task[None]] = set()

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
            connection.close_soon(1012, "server restarting", notice=RESTARTING)
        await self.db.bus.stop()

    async def announce_restart(self, wait_seconds: float) -> None:
        """Tell every socket that this server is going away, before it goes: the clients
        reconnect at once (to another instance behind the balancer) and resume from their last
        event, instead of noticing a dropped socket. Waits up to ``timeout`` for them to close.
        """
        self.stopping = True
        for connection in self.connections():
            connection.close_soon(1012, "server restarting", notice=RESTARTING)
        self._note_if_all_closed()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_closed.wait(), wait_seconds)

    def _note_if_all_closed(self) -> None:
        if self.stopping and not self._by_recipient:
            self._all_closed.set()

    def employee_ids(self) -> list[int]:
        """Employees with a socket open on this instance."""
        return sorted({c.employee_id for c in self.connections() if c.employee_id is not None})

    def connections(self) -> list[Connection]:
        return [c for conns in self._by_recipient.values() for c in conns]

    @property
    def connection_count(self) -> int:
        return sum(len(conns) for conns in self._by_recipient.values())

    def command(
        self,
        name: str,
        schema: type[Command],
        *,
        max_chars: int = DEFAULT_COMMAND_CHARS,
    ) -> Callable[[CommandHandler[Command]], CommandHandler[Command]]:
        """Register the handler of command ``name``: it gets the frame as ``schema``, or the
        sender gets an error frame. Frames longer than ``max_chars`` are refused unread."""

        def register(handler: CommandHandler[Command]) -> CommandHandler[Command]:
            self._commands[name] = _Registered(schema, handler, max_chars)
            self._max_chars = max(self._max_chars, max_chars)
            return handler

        return register

    def lane_dropped(self, prefix: str) -> Callable[[LaneDropped], LaneDropped]:
        """Register what to do when a socket falls so far behind in a lane starting with
        ``prefix`` that its queued frames of that lane are dropped."""

        def register(callback: LaneDropped) -> LaneDropped:
            self._lane_dropped[prefix] = callback
            return callback

        return register

    # -- delivery --------------------------------------------------------------------------

    def deliver(self, envelope: Envelope) -> None:
        if envelope.control:
            self._apply_control(envelope)
            return
        lane = envelope.lane
        delivered = 0
        for recipient in envelope.recipients:
            for connection in self._by_recipient.get(recipient, ()):
                delivered += 1
                if not connection.offer(envelope.event_id, envelope.frame, lane) and lane:
                    self._on_lane_dropped(connection, lane)
        if delivered:
            EVENTS_DELIVERED.inc(delivered)

    def _on_lane_dropped(self, connection: Connection, lane: str) -> None:
        if connection.closing:
            return
        log.info("socket of %s fell behind in %s; dropped its frames", connection.recipient, lane)
        callback = self._lane_dropped.get(lane.split(":", 1)[0])
        if callback is None:
            return

        async def run() -> None:
            try:
                await callback(connection, lane)
            except Exception:
                log.exception("lane %s: handling dropped frames failed", lane)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
        data = (
            _parse_command(first, DEFAULT_COMMAND_CHARS)[0]
            if first["type"] == "websocket.receive"
            else None
        )
        try:
            last_event_id = Hello.model_validate(data).last_event_id
        except ValidationError:
            if first["type"] == "websocket.receive":
                with contextlib.suppress(Exception):
                    await websocket.send_text(_error_frame(HELLO_REFUSED, "bad_hello"))
            await self._close(websocket, 4400, "expected hello")
            return
        # This frame lives as long as the socket: keep only what it needs.
        del first, data
        if self.stopping:
            # Opened while this server stops (the balancer had not noticed yet): off elsewhere.
            with contextlib.suppress(Exception):
                await websocket.send_text(json.dumps({"type": "closed", "reason": RESTARTING}))
            await self._close(websocket, 1012, "server restarting")
            return
        self._by_recipient[connection.recipient].add(connection)
        sockets_open = SOCKETS_OPEN.labels(socket_kind(employee=connection.employee_id is not None))
        sockets_open.inc()
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
            sockets_open.dec()
            self._note_if_all_closed()

    async def _send_backlog(self, connection: Connection, last_event_id: int | None) -> None:
        websocket = connection.websocket
        async with self.db.read() as session:
            if last_event_id is not None:
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
            event_id, frame, _ = item
            try:
                await websocket.send_text(frame)
            except (WebSocketDisconnect, OSError, RuntimeError):
                return  # the socket went away (or is closing): its reader ends it
            except Exception as exc:
                if not connection.closing:
                    # Not a socket that went away: this frame could not be sent (it could not
                    # be encoded, say). The socket is closed rather than left with a writer that
                    # no longer writes, so the client reconnects and resumes at once.
                    log.error("sending to %s failed; closing: %r", connection.recipient, exc)
                    connection.closing = True
                    await self._close(websocket, 1011, "send failed")
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
            data, refusal = _parse_command(message, self._max_chars)
            if data is None:
                connection.offer(None, _error_frame(refusal, "bad_frame"))
                continue
            kind = data.get("type")
            if kind in ("pong", "ping"):
                continue
            registered = self._commands.get(kind) if isinstance(kind, str) else None
            if registered is None or not isinstance(kind, str):
                connection.offer(
                    None, _error_frame(f"Unknown command {_named(kind)}.", "unknown_command")
                )
                continue
            ref = data.get("ref") if isinstance(data.get("ref"), str | int) else None
            if len(message["text"]) > registered.max_chars:
                connection.offer(
                    None, _error_frame("Message too large.", "too_large", command=kind, ref=ref)
                )
                continue
            try:
                command = registered.schema.model_validate(data)
            except ValueError as exc:  # ValidationError, or UnicodeError from a text check
                detail = _schema_refusal(kind, registered.schema, exc)
                connection.offer(None, _error_frame(detail, "invalid", command=kind, ref=ref))
                continue
            command._received_chars = len(message["text"])
            del data, message
            try:
                await registered.handler(connection, command)
            except DomainError as exc:
                connection.offer(
                    None,
                    _error_frame(
                        exc.detail, exc.code, params=exc.params or None, command=kind, ref=ref
                    ),
                )
            except Exception as exc:
                # What the database refuses (out of range, unreachable) is answered with the code
                # HTTP gives it, so a sender awaiting ``ref`` can tell a passing outage from a
                # refusal; anything else is a bug.
                answer = error_response(exc)
                answered = json.loads(bytes(answer.body)) if answer is not None else None
                if answered is None:
                    log.exception("socket command %s failed", kind)
                    answered = {"detail": "Something went wrong.", "code": "internal"}
                connection.offer(
                    None, _error_frame(answered["detail"], answered["code"], command=kind, ref=ref)
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
