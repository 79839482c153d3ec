"""What a messenger adapter provides. Adapters translate; the request rules live in the domain."""

from __future__ import annotations

from pathlib import Path
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


class MessengerAdapter(Protocol):
    kind: str

    async def send(
        self,
        resource: Resource,
        client: Client,
        message: MessageRead,
        files: list[tuple[AttachmentRead, Path]],
    ) -> None: ...

    async def start(self) -> None: ...

    async def refresh(self) -> None: ...

    async def stop(self) -> None: ...
