"""The event bus: carries envelopes from the instance that committed a change to every instance.

The in-memory bus serves the single-process embedded default; the Redis bus joins several
instances. Either way the database holds every durable event, so a bus hiccup costs latency,
never a message: when the Redis subscription comes back, the gateway replays from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import redis.asyncio as aioredis

from impserver.realtime.outbox import Envelope

log = logging.getLogger(__name__)

Deliver = Callable[[Envelope], None]
Resync = Callable[[], Awaitable[None]]

# Envelopes that could not be published are kept to publish later, up to this many; beyond it the
# oldest go, and other instances' sockets get those only through their resync from the database.
UNSENT_LIMIT = 10_000
# Redis is usually close by and quick to come back; a long pause would only delay the catch-up.
RESUBSCRIBE_BACKOFF_MAX = 2.0


class EventBus(Protocol):
    async def start(self, deliver: Deliver, resync: Resync) -> None: ...
    async def publish(self, envelope: Envelope) -> None: ...
    async def publish_many(self, envelopes: Sequence[Envelope]) -> None:
        """Publish envelopes in this order (a transaction's events), in one exchange where the
        bus allows it."""

    async def stop(self) -> None: ...


class MemoryBus:
    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver, resync: Resync) -> None:
        self._deliver = deliver

    async def publish(self, envelope: Envelope) -> None:
        if self._deliver is not None:
            self._deliver(envelope)

    async def publish_many(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            await self.publish(envelope)

    async def stop(self) -> None:
        self._deliver = None


class RedisBus:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._channel = f"{prefix}:events"
        self._deliver: Deliver | None = None
        self._resync: Resync | None = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._unsent: deque[Envelope] = deque(maxlen=UNSENT_LIMIT)
        self._flushing = asyncio.Lock()

    async def start(self, deliver: Deliver, resync: Resync) -> None:
        self._deliver = deliver
        self._resync = resync
        self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        # Wait briefly so that events published right after start-up are not missed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    async def publish(self, envelope: Envelope) -> None:
        await self.publish_many([envelope])

    async def publish_many(self, envelopes: Sequence[Envelope]) -> None:
        try:
            if self._unsent:
                await self._publish_unsent()
            if len(envelopes) == 1:
                await self._redis.publish(self._channel, envelopes[0].encode())
            elif envelopes:
                # One message for all of them (a visitor's message makes three events): one
                # command to send, one to receive and decode on every instance.
                await self._redis.publish(self._channel, Envelope.encode_all(list(envelopes)))
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as exc:
            log.warning("event bus unavailable, delivering locally only: %s", exc)
            for envelope in envelopes:
                self._keep_unsent(envelope)

    def _keep_unsent(self, envelope: Envelope) -> None:
        if envelope.event_id is not None or envelope.control:
            if len(self._unsent) == self._unsent.maxlen:
                log.warning("event bus backlog full; dropping the oldest unsent event")
            self._unsent.append(envelope)
        if self._deliver is not None:
            # Local sockets get it now, but without moving their resume point past events of
            # other instances that this one is not hearing about: the resync after the outage
            # replays from there (the client ignores ids it has already seen).
            self._deliver(dataclasses.replace(envelope, event_id=None))

    async def _publish_unsent(self) -> None:
        """Publish what failed earlier, oldest first, so other instances hear of it late rather
        than only on their own resync (which they skip if their subscription never broke)."""
        async with self._flushing:
            while self._unsent:
                await self._redis.publish(self._channel, self._unsent[0].encode())
                self._unsent.popleft()

    async def _listen(self) -> None:
        backoff = 0.2
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                await self._publish_unsent()
                if not first and self._resync is not None:
                    await self._resync()
                first = False
                backoff = 0.2
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    if message is None or message.get("type") != "message":
                        continue
                    if self._deliver is not None:
                        for envelope in Envelope.decode_all(message["data"]):
                            self._deliver(envelope)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except Exception as exc:
                log.warning("event bus subscription lost (%s); retrying in %.1fs", exc, backoff)
                self._subscribed.clear()
                first = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RESUBSCRIBE_BACKOFF_MAX)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self._redis.aclose()


ControlListener = Callable[[Envelope], None]
# Instructions for the listeners only, not for the gateway: the authentication cache's, and the
# webhook outbox's (which hooks listen to what).
LISTENER_ONLY_PREFIXES = ("auth:", "webhooks:")


class ControlTap:
    """An event bus that also shows gateway instructions to this instance's other listeners
    (the authentication cache): at once on the instance that publishes one, before its request
    is answered, and on every other instance as it arrives. Instructions only for those
    listeners (``auth:…``) are not handed to the gateway. When the subscription comes back after
    a loss, ``on_resync`` runs first: instructions may have been missed meanwhile."""

    def __init__(
        self, bus: EventBus, listener: ControlListener, on_resync: Callable[[], None]
    ) -> None:
        self.bus = bus
        self.listener = listener
        self.on_resync = on_resync

    async def start(self, deliver: Deliver, resync: Resync) -> None:
        def deliver_and_tap(envelope: Envelope) -> None:
            if envelope.control:
                self.listener(envelope)
                if envelope.control.startswith(LISTENER_ONLY_PREFIXES):
                    return
            deliver(envelope)

        async def resync_after_missing() -> None:
            self.on_resync()
            await resync()

        await self.bus.start(deliver_and_tap, resync_after_missing)

    async def publish(self, envelope: Envelope) -> None:
        await self.publish_many([envelope])

    async def publish_many(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.control:
                self.listener(envelope)
        await self.bus.publish_many(envelopes)

    async def stop(self) -> None:
        await self.bus.stop()
