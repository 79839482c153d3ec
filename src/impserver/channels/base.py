"""What a messenger adapter provides. Adapters translate; the request rules live in the domain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

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


@dataclass(frozen=True)
class ConnectedAccount:
    """What a messenger said about the account an administrator connects (a bot, a community,
    a phone number), once it accepted the credentials."""

    # The messenger's own id of the account: the resource's public key, so that one account is
    # connected once.
    public_key: str
    # The account's name there, the resource's name unless the administrator gives another.
    name: str
    # How people find it there (@bot, a community's short name, a phone number), shown in
    # Administration.
    handle: str
    # What the channel keeps to work the account: credentials, secrets. Never sent back.
    config: dict[str, Any]


class MessengerAdapter(Protocol):
    kind: str

    async def connect(self, credentials: dict[str, Any]) -> ConnectedAccount:
        """Check the credentials with the messenger; an ``InvalidInput`` with a code the UI
        translates when they are wrong or the messenger cannot be reached."""
        ...

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
