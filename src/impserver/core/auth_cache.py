"""Credentials this instance has checked lately, so that a request need not ask the database.

Every authenticated request used to look its session up: a query for each message sent. An
entry here lives a few seconds and is dropped at once, on every instance, when what it stands
for changes: gateway instructions (``revoke:…`` after a logout, a password reset, a deactivation,
and ``auth:changed`` after an employee's own row changes) reach every instance through the event
bus, which shows them to this cache as well as to the gateway (see ``ControlTap``). The instance
that publishes an instruction applies it before the request that caused it is answered, so its
own next request never sees the old state. An entry cannot outlive the session's own expiry:
the caller checks that on every use.

Should the bus lose its subscription, instructions may have been missed meanwhile: the whole
cache is dropped when it comes back.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from impserver.realtime.outbox import Envelope

# Short enough that a change made without an instruction (none should be) shows soon anyway.
AUTH_CACHE_SECONDS = 10.0
# Entries beyond this are not added: the cache is a shortcut, never a store of every session.
AUTH_CACHE_LIMIT = 50_000
# An instruction for the caches only (gateways ignore it): the recipients' rows changed (name,
# role, language), so what was cached about their sessions is out of date.
AUTH_CHANGED = "auth:changed"


class AuthCache:
    def __init__(self, seconds: float = AUTH_CACHE_SECONDS, limit: int = AUTH_CACHE_LIMIT) -> None:
        self.seconds = seconds
        self.limit = limit
        # key (e.g. a session's token digest) → (valid until, recipient, value)
        self._entries: dict[str, tuple[float, str, Any]] = {}
        self._keys_of: dict[str, set[str]] = defaultdict(set)
        # Counts invalidations. A lookup that began before one may have read the old state, so
        # what it found is not cached (``put``'s ``since``).
        self.generation = 0

    def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._drop(key)
            return None
        return entry[2]

    def put(self, key: str, recipient: str, value: Any, *, since: int | None = None) -> None:
        """Cache ``value``, unless something was invalidated after generation ``since``."""
        if since is not None and since != self.generation:
            return
        if key not in self._entries and len(self._entries) >= self.limit:
            self._drop_expired()
            if len(self._entries) >= self.limit:
                return
        self._entries[key] = (time.monotonic() + self.seconds, recipient, value)
        self._keys_of[recipient].add(key)

    def forget(self, recipient: str, *, only: str | None = None, keep: str | None = None) -> None:
        """Drop what is cached for ``recipient``: one key (``only``), all but one (``keep``), or
        all of them."""
        self.generation += 1
        for key in list(self._keys_of.get(recipient, ())):
            if (only is None or key == only) and key != keep:
                self._drop(key)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._keys_of.clear()

    def apply(self, envelope: Envelope) -> None:
        """Act on a gateway instruction from the bus (``revoke:all``, ``revoke:only:<digest>``,
        ``revoke:except:<digest>``, ``auth:changed``); events and other instructions pass."""
        instruction = envelope.control or ""
        if instruction == AUTH_CHANGED:
            for recipient in envelope.recipients:
                self.forget(recipient)
            return
        if not instruction.startswith("revoke:"):
            return
        _, scope, *rest = instruction.split(":", 2)
        digest = rest[0] if rest else ""
        for recipient in envelope.recipients:
            if scope == "only":
                self.forget(recipient, only=digest)
            elif scope == "except":
                self.forget(recipient, keep=digest)
            else:
                self.forget(recipient)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        keys = self._keys_of.get(entry[1])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_of[entry[1]]

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, entry in self._entries.items() if entry[0] < now]:
            self._drop(key)
