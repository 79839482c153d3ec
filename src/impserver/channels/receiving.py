"""How a messenger's events reach IMP: its webhook calls IMP's address where it can reach it,
or IMP polls it (one task a resource) where it cannot. The same for every messenger that offers
both; what setting one up means is the adapter's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.resources.models import Resource
from impserver.services import Services

log = logging.getLogger(__name__)


async def active_resources(session: AsyncSession, kind: str) -> list[Resource]:
    """The resources of a messenger that should be receiving."""
    return list(
        await session.scalars(
            select(Resource)
            .where(Resource.kind == kind)
            .where(Resource.deleted_at.is_(None))
            .where(Resource.is_active.is_(True))
        )
    )


async def still_receiving(services: Services, resource_id: int) -> Resource | None:
    """The resource a polling task serves, read afresh; None once it is removed or disabled,
    when the task ends."""
    async with services.db.read() as session:
        resource = await session.get(Resource, resource_id)
    if resource is None or resource.deleted_at is not None or not resource.is_active:
        return None
    return resource


class Backoff:
    """How long a polling task waits after a failure: doubling up to half a minute, from a
    second again once a poll succeeds."""

    FIRST = 1.0
    LONGEST = 30.0

    def __init__(self) -> None:
        self.seconds = self.FIRST

    def reset(self) -> None:
        self.seconds = self.FIRST

    async def wait(self) -> None:
        await asyncio.sleep(self.seconds)
        self.seconds = min(self.seconds * 2, self.LONGEST)


class Receivers:
    """The webhook or the polling task of each active resource of one messenger."""

    def __init__(
        self,
        services: Services,
        *,
        kind: str,
        mode: Callable[[], str],
        webhook_path: str,
        what: str,
        errors: tuple[type[BaseException], ...],
    ) -> None:
        self.services = services
        self.kind = kind
        # The messenger's mode setting, read on each refresh: "webhook", "polling" or "auto".
        self._mode = mode
        # The last part of the webhook's address: /api/channels/<kind>/<resource id>/<path>.
        self._webhook_path = webhook_path
        # What is started, as the log names it ("Telegram bot").
        self._what = what
        # The messenger's refusals and failures to reach it: logged, the other resources go on.
        self._errors = errors
        self._polling: dict[int, asyncio.Task[None]] = {}
        # The webhook address each resource was last set up with by this process.
        self.webhooks: dict[int, str] = {}

    def webhook_url(self, resource: Resource) -> str | None:
        """IMP's address for the resource's webhook, or None to poll: the mode asks for it, or
        (``auto``) the public address is HTTPS, which messengers require of a webhook."""
        mode = self._mode()
        base = self.services.settings.public_base_url
        if mode == "polling" or (mode == "auto" and not base.startswith("https://")):
            return None
        return f"{base}/api/channels/{self.kind}/{resource.id}/{self._webhook_path}"

    async def refresh(
        self,
        *,
        use_webhook: Callable[[Resource, str], Awaitable[None]],
        use_polling: Callable[[Resource], Awaitable[None]],
        poll: Callable[[int], Coroutine[Any, Any, None]],
    ) -> None:
        """Start receiving for every active resource, stop it for removed or disabled ones.
        ``use_webhook`` is called on each refresh (the adapter knows whether it must set the
        webhook again); ``use_polling`` once before the resource's polling task starts."""
        async with self.services.db.read() as session:
            resources = await active_resources(session, self.kind)
        wanted = {r.id for r in resources}
        for resource_id in list(self._polling):
            if resource_id not in wanted:
                self._polling.pop(resource_id).cancel()
        for resource_id in list(self.webhooks):
            if resource_id not in wanted:
                self.webhooks.pop(resource_id)
        for resource in resources:
            url = self.webhook_url(resource)
            try:
                if url:
                    await use_webhook(resource, url)
                    self.webhooks[resource.id] = url
                elif resource.id not in self._polling:
                    await use_polling(resource)
                    self._polling[resource.id] = asyncio.create_task(
                        poll(resource.id), name=f"{self.kind}-poll-{resource.id}"
                    )
            except self._errors as exc:
                log.warning("%s of resource %s not started: %s", self._what, resource.id, exc)

    async def stop(self) -> None:
        for task in self._polling.values():
            task.cancel()
        for task in self._polling.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._polling.clear()
        self.webhooks.clear()
