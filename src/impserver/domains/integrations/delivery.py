"""Sending webhook deliveries: signed, retried with back-off, never in anyone's way.

Deliveries are rows (``outbox``), so they survive restarts and each goes out once however many
instances run: a loop in every instance leases due rows (SKIP LOCKED on PostgreSQL) and sends
them outside any transaction, several at a time but never more than a few to one hook, so one
slow receiver holds back neither the others nor anything in the workspace.

Each attempt is an HTTP POST of the same body, signed anew: ``X-IMP-Signature: v1=<hex>`` is
HMAC-SHA256 with the hook's secret over ``<X-IMP-Timestamp>.<body>`` (README, "Webhooks").
A 2xx answer is success; anything else, a redirect included (they are not followed), a timeout
or a refused address is a failure, tried again after 30 s, 1 min, 2 min… up to an hour apart,
for 24 h from the event. After a run of failed attempts the hook is switched off and the
administrators are told; its remaining deliveries wait until it is switched on again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, select

from impserver.core.clock import utcnow
from impserver.core.db import OutageLog
from impserver.domains.integrations import actions
from impserver.domains.integrations.addresses import (
    RESOLVE_SECONDS,
    AddressRefused,
    check_destination,
)
from impserver.domains.integrations.models import (
    DELIVERY_DELIVERED,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    Webhook,
    WebhookDelivery,
)
from impserver.domains.integrations.outbox import WebhookOutbox
from impserver.services import Services

log = logging.getLogger(__name__)

# A leased delivery is its sender's for the longest an attempt can take (resolving the name,
# the receiver's time to answer) and this much more; one whose sender died is taken up again.
LEASE_MARGIN = timedelta(minutes=1)
# Deliveries in flight at once in one instance, and to one hook.
CONCURRENCY = 16
PER_HOOK = 4
# Attempts reading or recording at once.
DATABASE_SLOTS = 2
# Longest wait between two attempts of a delivery.
LONGEST_BACKOFF = 3600.0
# How much of a receiver's answer is kept in the log when it refused a delivery.
KEPT_ANSWER = 300
USER_AGENT = "IMP-Webhooks/1"


def signature(secret: str, timestamp: str, body: str) -> str:
    """``X-IMP-Signature``'s value for a body sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"v1={digest}"


def backoff(first_seconds: float, attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt."""
    return min(LONGEST_BACKOFF, first_seconds * 2.0 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed: a kind the workspace words in its language, what the receiver
    or the network said (shown as it is), and the whole in English for the API."""

    kind: str
    detail: str
    text: str


class WebhookSender:
    def __init__(self, services: Services, outbox: WebhookOutbox) -> None:
        self.services = services
        self.outbox = outbox
        self.settings = services.settings
        self._in_flight: Counter[int] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._http = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=self.settings.webhook_timeout_seconds,
            headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
        )
        self._last_pruned = 0.0
        # Attempts wait for receivers many at a time, but use the database a few at a time: a
        # burst of deliveries must not take the connections the workspace needs.
        self._database_slots = asyncio.Semaphore(DATABASE_SLOTS)
        self._lease_length = LEASE_MARGIN + timedelta(
            seconds=RESOLVE_SECONDS + self.settings.webhook_timeout_seconds
        )

    async def run(self) -> None:
        outage = OutageLog(log, "webhook deliveries")
        interval = self.settings.timer_interval_seconds
        try:
            while True:
                started = 0
                # Cleared before looking, so that deliveries committed meanwhile wake the wait.
                self.outbox.deliveries_written.clear()
                try:
                    started = await self.start_due()
                    await self._prune_now_and_then()
                except Exception as exc:
                    outage.failed(exc)
                else:
                    outage.succeeded()
                if started and len(self._tasks) < CONCURRENCY:
                    continue
                # Until the next round: deliveries committed, an attempt done, or the interval.
                wake = asyncio.ensure_future(self.outbox.deliveries_written.wait())
                waits: set[asyncio.Future[Any]] = {wake, *self._tasks}
                await asyncio.wait(waits, timeout=interval, return_when="FIRST_COMPLETED")
                wake.cancel()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._http.aclose()

    async def start_due(self) -> int:
        """Lease what is due (within this instance's free places) and start sending it."""
        free = CONCURRENCY - len(self._tasks)
        if free <= 0:
            return 0
        leased = await self._lease(free)
        for delivery_id, webhook_id in leased:
            self._in_flight[webhook_id] += 1
            task = asyncio.create_task(self._attempt(delivery_id, webhook_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(leased)

    async def drain(self) -> None:
        """Wait for the attempts started so far (tests, shutdown)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _lease(self, free: int) -> list[tuple[int, int]]:
        now = utcnow()
        async with self.services.db.transaction() as uow:
            query = (
                select(WebhookDelivery)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.status == DELIVERY_PENDING)
                .where(WebhookDelivery.due_at <= now)
                .where(Webhook.is_enabled)
                .order_by(WebhookDelivery.due_at, WebhookDelivery.id)
                .limit(free * PER_HOOK)
            )
            if self.services.db.has_driver_units:
                # Only the deliveries: a lock on their hook's row would hold up every
                # transaction writing it a delivery (their foreign key's KEY SHARE lock).
                query = query.with_for_update(of=WebhookDelivery, skip_locked=True)
            candidates = list(await uow.session.scalars(query))
            taken: list[tuple[int, int]] = []
            per_hook = Counter(self._in_flight)
            for delivery in candidates:
                if len(taken) == free:
                    break
                if per_hook[delivery.webhook_id] >= PER_HOOK:
                    continue
                per_hook[delivery.webhook_id] += 1
                delivery.due_at = now + self._lease_length
                taken.append((delivery.id, delivery.webhook_id))
            return taken

    async def _attempt(self, delivery_id: int, webhook_id: int) -> None:
        try:
            await self._send(delivery_id)
        except Exception:
            # Not recorded: the lease runs out and the delivery is tried again.
            log.exception("webhook delivery %s failed unexpectedly", delivery_id)
        finally:
            self._in_flight[webhook_id] -= 1
            if self._in_flight[webhook_id] <= 0:
                del self._in_flight[webhook_id]

    async def _send(self, delivery_id: int) -> None:
        async with self._database_slots, self.services.db.read() as session:
            found = (
                await session.execute(
                    select(WebhookDelivery, Webhook)
                    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                    .where(WebhookDelivery.id == delivery_id)
                )
            ).first()
        if found is None:
            return
        delivery, hook = found
        status: int | None = None
        failure: Failure | None = None
        try:
            await check_destination(
                hook.url, allow_private=self.settings.webhook_allow_private_addresses
            )
            timestamp = str(int(time.time()))
            answer = await self._http.post(
                hook.url,
                content=delivery.body.encode(),
                headers={
                    "X-IMP-Event": delivery.event,
                    "X-IMP-Event-Id": delivery.event_id,
                    "X-IMP-Delivery": str(delivery.id),
                    "X-IMP-Timestamp": timestamp,
                    "X-IMP-Signature": signature(hook.secret, timestamp, delivery.body),
                },
            )
            status = answer.status_code
            if answer.is_redirect:
                location = answer.headers.get("location", "")
                failure = Failure("redirected", location, f"redirected to {location}: not followed")
            elif not answer.is_success:
                excerpt = answer.text[:KEPT_ANSWER]
                failure = Failure("answered", excerpt, f"answered {status}: {excerpt}")
        except AddressRefused as exc:
            kind = (
                "address_forbidden" if exc.code == "webhook_address_forbidden" else "unresolvable"
            )
            failure = Failure(kind, str(exc.params.get("host", "")), exc.detail)
        except httpx.TimeoutException:
            seconds = f"{self.settings.webhook_timeout_seconds:g}"
            failure = Failure("timeout", seconds, f"no answer within {seconds} s")
        except httpx.HTTPError as exc:
            said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            failure = Failure("connection", said, said)
        async with self._database_slots:
            await self._record(delivery_id, status, failure)

    async def _record(self, delivery_id: int, status: int | None, failure: Failure | None) -> None:
        now = utcnow()
        async with self.services.db.transaction() as uow:
            delivery = await uow.session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is None:
                return
            # FOR NO KEY UPDATE: deliveries may still be written for it meanwhile.
            hook = await uow.session.get(
                Webhook, delivery.webhook_id, with_for_update={"key_share": True}
            )
            assert hook is not None
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.response_status = status
            delivery.error_kind = failure.kind if failure else ""
            delivery.error_detail = failure.detail[:KEPT_ANSWER] if failure else ""
            delivery.last_error = failure.text[:500] if failure else ""
            if failure is None:
                delivery.status = DELIVERY_DELIVERED
                delivery.delivered_at = now
                hook.failures_in_a_row = 0
                return
            wait = backoff(self.settings.webhook_retry_first_seconds, delivery.attempts)
            given_up_at = delivery.created_at + timedelta(hours=self.settings.webhook_retry_hours)
            if now + timedelta(seconds=wait) > given_up_at:
                delivery.status = DELIVERY_FAILED
            else:
                delivery.status = DELIVERY_PENDING
                delivery.due_at = now + timedelta(seconds=wait)
            hook.failures_in_a_row += 1
            if (
                hook.is_enabled
                and hook.failures_in_a_row >= self.settings.webhook_disable_after_failures
            ):
                await actions.switch_off_after_failures(uow, hook)

    async def _prune_now_and_then(self) -> None:
        """Done deliveries older than the log keeps, once an hour."""
        if time.monotonic() - self._last_pruned < 3600:
            return
        self._last_pruned = time.monotonic()
        oldest = utcnow() - timedelta(days=self.settings.webhook_log_days)
        async with self.services.db.transaction() as uow:
            await uow.session.execute(
                delete(WebhookDelivery)
                .where(WebhookDelivery.status != DELIVERY_PENDING)
                .where(WebhookDelivery.created_at < oldest)
            )
