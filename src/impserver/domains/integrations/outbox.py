"""The webhook outbox: what actions tell integrations, kept as deliveries in the same transaction.

It is the ``IntegrationListener`` the app plugs into the database (``core.integration_events``).
Whether any webhook wants an event is answered from memory, so that a message sent where no
hook listens costs nothing more: the enabled hooks are read at most every few seconds, and at
once after any change to them, on every instance (``webhooks:changed`` travels the event bus
like the authentication cache's instructions). The rows are written only for hooks still
enabled when the transaction writes them, so a hook switched off or deleted on another instance
a moment ago is never written to.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, Text, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.clock import utcnow
from impserver.core.db import UTCDateTime
from impserver.core.integration_events import IntegrationEvent
from impserver.domains.integrations.models import DELIVERY_PENDING, Webhook, WebhookDelivery
from impserver.realtime.outbox import Envelope

# An instruction on the bus: the webhooks changed, read them again before the next event.
WEBHOOKS_CHANGED = "webhooks:changed"
# How long the enabled hooks read are trusted without an instruction (a safety net only).
HOOKS_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class _Hook:
    id: int
    events: frozenset[str]
    resource_id: int | None

    def listens(self, name: str, resource_id: int) -> bool:
        return name in self.events and self.resource_id in (None, resource_id)


def event_body(event_id: str, event: IntegrationEvent) -> str:
    """The JSON a delivery carries, the same bytes at every attempt."""
    return json.dumps(
        {
            "id": event_id,
            "event": event.name,
            "created_at": utcnow().isoformat(),
            "resource_id": event.resource_id,
            "data": event.data(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


class WebhookOutbox:
    def __init__(self, seconds: float = HOOKS_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._hooks: list[_Hook] | None = None
        self._valid_until = 0.0
        # Counts invalidations: hooks read before one are not kept (they may be out of date).
        self._generation = 0
        # Set when deliveries were committed: wakes the delivery loop before its next round.
        self.deliveries_written = asyncio.Event()

    # -- what the bus says --------------------------------------------------------------------

    def apply(self, envelope: Envelope) -> None:
        if envelope.control == WEBHOOKS_CHANGED:
            self.forget()

    def forget(self) -> None:
        self._generation += 1
        self._hooks = None

    # -- IntegrationListener ----------------------------------------------------------------

    def wants(self, name: str, resource_id: int) -> bool:
        hooks = self._known()
        return hooks is None or any(h.listens(name, resource_id) for h in hooks)

    async def store(self, session: AsyncSession, events: Sequence[IntegrationEvent]) -> None:
        hooks = self._known()
        if hooks is None:
            since = self._generation
            rows = await session.execute(
                select(Webhook.id, Webhook.events, Webhook.resource_id).where(Webhook.is_enabled)
            )
            hooks = self._keep(rows.all(), since)
        now = utcnow()
        for event in events:
            ids = [h.id for h in hooks if h.listens(event.name, event.resource_id)]
            if not ids:
                continue
            event_id = str(uuid.uuid4())
            chosen = select(
                Webhook.id,
                literal(event_id, String()),
                literal(event.name, String()),
                literal(event_body(event_id, event), Text()),
                literal(DELIVERY_PENDING, String()),
                literal(0, Integer()),
                literal(now, UTCDateTime()),
                literal(now, UTCDateTime()),
                literal("", String()),
                literal("", String()),
                literal("", String()),
            ).where(Webhook.id.in_(ids), Webhook.is_enabled)
            await session.execute(
                insert(WebhookDelivery).from_select(_COLUMNS, chosen),
            )

    async def store_on_driver(self, connection: Any, events: Sequence[IntegrationEvent]) -> None:
        hooks = self._known()
        if hooks is None:
            since = self._generation
            rows = await connection.fetch(_ENABLED_HOOKS_DRIVER)
            hooks = self._keep(
                [(r["id"], json.loads(r["events"]), r["resource_id"]) for r in rows], since
            )
        now = utcnow()
        for event in events:
            ids = [h.id for h in hooks if h.listens(event.name, event.resource_id)]
            if ids:
                event_id = str(uuid.uuid4())
                await connection.execute(
                    _OWE_DRIVER,
                    ids,
                    event_id,
                    event.name,
                    event_body(event_id, event),
                    DELIVERY_PENDING,
                    now,
                )

    def committed(self) -> None:
        self.deliveries_written.set()

    # -- the hooks in memory ----------------------------------------------------------------

    def _known(self) -> list[_Hook] | None:
        if self._hooks is not None and time.monotonic() < self._valid_until:
            return self._hooks
        return None

    def _keep(self, rows: Sequence[Any], since: int) -> list[_Hook]:
        hooks = [
            _Hook(id=row[0], events=frozenset(row[1] or ()), resource_id=row[2]) for row in rows
        ]
        if since == self._generation:
            self._hooks = hooks
            self._valid_until = time.monotonic() + self.seconds
        return hooks


_COLUMNS = [
    WebhookDelivery.webhook_id,
    WebhookDelivery.event_id,
    WebhookDelivery.event,
    WebhookDelivery.body,
    WebhookDelivery.status,
    WebhookDelivery.attempts,
    WebhookDelivery.due_at,
    WebhookDelivery.created_at,
    WebhookDelivery.error_kind,
    WebhookDelivery.error_detail,
    WebhookDelivery.last_error,
]
_ENABLED_HOOKS_DRIVER = "SELECT id, events, resource_id FROM webhooks WHERE is_enabled"
_OWE_DRIVER = """
    INSERT INTO webhook_deliveries (webhook_id, event_id, event, body, status, attempts, due_at,
                                    created_at, error_kind, error_detail, last_error)
    SELECT id, $2, $3, $4, $5, 0, $6, $6, '', '', ''
    FROM webhooks WHERE id = ANY($1::int[]) AND is_enabled
"""
