"""The long-lived parts one app instance works with, built once in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from impserver.core.auth_cache import AuthCache
from impserver.core.config import Settings
from impserver.core.ratelimit import RateLimiter
from impserver.core.storage import FileStorage
from impserver.core.unit_of_work import Database, UnitOfWork

if TYPE_CHECKING:
    from impserver.channels.base import MessengerAdapter
    from impserver.realtime.gateway import Gateway


@dataclass
class Services:
    settings: Settings
    db: Database
    limiter: RateLimiter
    gateway: Gateway
    files: FileStorage
    # Messenger adapters by resource kind ("telegram", …).
    messengers: dict[str, MessengerAdapter] = field(default_factory=dict)
    # Sessions checked lately (see core/auth_cache.py).
    auth_cache: AuthCache = field(default_factory=AuthCache)
    # Set when a request may now be given out (one entered a queue, a slot freed, someone came
    # Online): wakes this instance's router before its next round.
    routing_wanted: asyncio.Event = field(default_factory=asyncio.Event)

    def routing_may_move(self, uow: UnitOfWork) -> None:
        async def wake() -> None:
            self.routing_wanted.set()

        uow.after_commit(wake)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
