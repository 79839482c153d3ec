"""Events received from messengers, each acted on once (see ``ChannelReceipt``)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.channels.models import ChannelReceipt
from impserver.core.clock import utcnow
from impserver.services import Services


def unix_time(value: Any) -> datetime | None:
    """A messenger's time of an event (seconds since 1970, as a number or digits), or None
    when it gives none that makes sense."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**40:
        return None
    return datetime.fromtimestamp(value, UTC)


async def already_received(services: Services, resource_id: int, key: str) -> bool:
    async with services.db.read() as session:
        found = await session.scalar(
            select(ChannelReceipt.id)
            .where(ChannelReceipt.resource_id == resource_id)
            .where(ChannelReceipt.key == key[:100])
        )
    return found is not None


async def remember(
    services: Services,
    resource_id: int,
    key: str,
    *,
    client_id: int | None,
    sent_at: datetime | None = None,
) -> None:
    """Called once the event was acted on. Two copies acted on at once both get here: the
    second is refused by the unique key, and the domain's own idempotency made it harmless."""
    with contextlib.suppress(IntegrityError):
        async with services.db.transaction() as uow:
            uow.session.add(
                ChannelReceipt(
                    resource_id=resource_id,
                    client_id=client_id,
                    key=key[:100],
                    sent_at=min(sent_at or utcnow(), utcnow()),
                )
            )


async def last_written_at(session: AsyncSession, client_id: int) -> datetime | None:
    """When the client last wrote, by their messenger's clock."""
    found: datetime | None = await session.scalar(
        select(func.max(ChannelReceipt.sent_at)).where(ChannelReceipt.client_id == client_id)
    )
    return found
