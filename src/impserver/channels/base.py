"""What a messenger adapter provides. Adapters translate; the request rules live in the domain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from impserver.domains.clients.models import Client
from impserver.domains.resources.models import Resource
from impserver.domains.rooms.schemas import AttachmentRead, MessageRead


class RetryLater(Exception):
    """The messenger asked us to slow down (or was unreachable): try again after ``seconds``."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class DeliveryFailed(Exception):
    """The messenger refused the message for good (e.g. the user blocked the bot)."""


@dataclass(frozen=True)
class OutgoingFile:
    """A file going out with a message: what it is, and its bytes, read from storage each time
    they are asked for (a messenger call retried reads them again)."""

    attachment: AttachmentRead
    chunks: Callable[[], AsyncIterator[bytes]]


class MessengerAdapter(Protocol):
    kind: str

    async def send(
        self,
        resource: Resource,
        client: Client,
        message: MessageRead,
        files: list[OutgoingFile],
    ) -> None: ...

    async def start(self) -> None: ...

    async def refresh(self) -> None: ...

    async def stop(self) -> None: ...
