"""What happened, told to the world outside (outgoing webhooks), in the same transaction.

Domain actions say what happened in the words of the public catalogue below; whatever listens
for it (the integrations' webhook outbox) stores it in the transaction that made it happen, so
it is kept exactly when the change is. Core knows only this seam: the listener is plugged in
when the app is built, and with no listener, or none wanting an event, an action pays nothing
(the data is built only when wanted).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

REQUEST_CREATED = "request.created"
REQUEST_ASSIGNED = "request.assigned"
REQUEST_TRANSFERRED = "request.transferred"
REQUEST_CLOSED = "request.closed"
MESSAGE_CREATED = "message.created"
CLIENT_BLOCKED = "client.blocked"
RATING_RECEIVED = "rating.received"

# Every event an integration can subscribe to, in the order the administration lists them.
CATALOGUE = (
    REQUEST_CREATED,
    REQUEST_ASSIGNED,
    REQUEST_TRANSFERRED,
    REQUEST_CLOSED,
    MESSAGE_CREATED,
    CLIENT_BLOCKED,
    RATING_RECEIVED,
)


@dataclass(frozen=True)
class IntegrationEvent:
    name: str
    # The resource (site or bot) it happened in: a webhook may listen to one resource only.
    resource_id: int
    # Called when the event is stored, just before the commit: the data then describes the
    # state the transaction leaves behind (a new request already routed to its queue).
    data: Callable[[], dict[str, Any]]


class IntegrationListener(Protocol):
    def wants(self, name: str, resource_id: int) -> bool:
        """Whether anything may want the event (cheap, from memory): when unsure, yes."""
        ...

    async def store(self, session: AsyncSession, events: Sequence[IntegrationEvent]) -> None:
        """Keep the events in the transaction of ``session``."""
        ...

    async def store_on_driver(self, connection: Any, events: Sequence[IntegrationEvent]) -> None:
        """The same in a transaction on PostgreSQL's driver connection (asyncpg)."""
        ...

    def committed(self) -> None:
        """A transaction that stored events committed (whoever sends them may start now)."""
        ...


class IntegrationEvents:
    """The events of one transaction (held by its unit of work)."""

    def __init__(self, listener: IntegrationListener | None) -> None:
        self.listener = listener
        self.pending: list[IntegrationEvent] = []

    def tell(self, name: str, resource_id: int, data: Callable[[], dict[str, Any]]) -> None:
        """``data`` is called only if something wants the event."""
        if self.listener is not None and self.listener.wants(name, resource_id):
            self.pending.append(IntegrationEvent(name, resource_id, data))
