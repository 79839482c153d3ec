"""Idempotent sends: however many copies of one send race, one message and one event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

_Sent = TypeVar("_Sent")


async def send_idempotently(
    client_message_id: str | None, send: Callable[[], Awaitable[_Sent]]
) -> _Sent:
    """Run ``send`` (one whole transaction that appends the message); run it once more if it
    lost the race for the ``client_message_id`` to a copy of itself.

    ``append_message`` returns the earlier message for a known id, but copies sent at the same
    moment (PostgreSQL: separate transactions) can all pass that check; the unique key lets one
    commit and fails the others. By then the winner has committed, so the second run finds its
    message and emits nothing. Any other integrity error fails the second run too and is raised.
    """
    try:
        return await send()
    except IntegrityError:
        if not client_message_id:
            raise
        return await send()
