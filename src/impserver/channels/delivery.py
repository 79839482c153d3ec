"""Sending what employees write to clients on messengers, through a durable queue.

A row per owed message is written with the message itself; workers lease due rows (SKIP LOCKED
on PostgreSQL, so each row goes out once with several instances), send them outside any
transaction, and record the outcome. 429s wait as long as asked; a message that cannot be
delivered is marked failed on the message, where the employee sees it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, bindparam, exists, select
from sqlalchemy.orm import aliased

from impserver.channels.base import DeliveryFailed, MessengerAdapter, OutgoingFile, RetryLater
from impserver.channels.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SENT,
    ChannelDelivery,
)
from impserver.core.clock import utcnow
from impserver.core.db import OutageLog
from impserver.core.metrics import CHANNEL_DELIVERIES
from impserver.core.unit_of_work import DriverUnit, SqliteUnit, UnitOfWork
from impserver.domains.clients.models import Client
from impserver.domains.requests.events import RequestMessageCreated
from impserver.domains.requests.models import ClientRequest
from impserver.domains.resources.models import KIND_WEBSITE, Resource
from impserver.domains.rooms.messaging import message_reads
from impserver.domains.rooms.models import Attachment, Message
from impserver.domains.rooms.schemas import AttachmentRead
from impserver.realtime.events import Audience
from impserver.services import Services

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5


# Asked for every message to a client: built once, on the table.
_RESOURCES = cast(Table, Resource.__table__)
_RESOURCE_KIND = select(_RESOURCES.c.kind).where(_RESOURCES.c.id == bindparam("resource_id"))


async def owe_delivery(uow: UnitOfWork, request: ClientRequest, message_id: int) -> None:
    """Called by the request actions for every client-facing message of a messenger client."""
    kind = await uow.session.scalar(_RESOURCE_KIND, {"resource_id": request.resource_id})
    if kind and kind != KIND_WEBSITE:
        uow.session.add(ChannelDelivery(message_id=message_id, request_id=request.id))


_OWE_DELIVERY_DRIVER = """
    INSERT INTO channel_deliveries (message_id, request_id, status, attempts, due_at,
                                    last_error, created_at)
    VALUES ($1, $2, $3, 0, $4, '', $4)
"""


async def owe_delivery_on_driver(
    unit: DriverUnit | SqliteUnit, request_id: int, resource_kind: str, message_id: int
) -> None:
    """``owe_delivery`` in a driver's unit, the request's resource kind already known."""
    if resource_kind != KIND_WEBSITE:
        await unit.connection.execute(
            _OWE_DELIVERY_DRIVER, message_id, request_id, DELIVERY_PENDING, unit.time(utcnow())
        )


async def _lease(services: Services, limit: int) -> list[int]:
    earlier = aliased(ChannelDelivery)
    async with services.db.transaction() as uow:
        query = (
            select(ChannelDelivery)
            .where(ChannelDelivery.status == DELIVERY_PENDING)
            .where(ChannelDelivery.due_at <= utcnow())
            # A request's messages reach the messenger in order: one waiting out a rate limit
            # (or a retry) holds back those written after it.
            .where(
                ~exists().where(
                    earlier.request_id == ChannelDelivery.request_id,
                    earlier.id < ChannelDelivery.id,
                    earlier.status == DELIVERY_PENDING,
                )
            )
            .order_by(ChannelDelivery.id)
            .limit(limit)
        )
        query = uow.claim(query)
        rows = list(await uow.session.scalars(query))
        for row in rows:
            row.attempts += 1
            row.due_at = utcnow() + LEASE
        return [row.id for row in rows]


async def _send_one(
    services: Services, adapters: dict[str, MessengerAdapter], delivery_id: int
) -> None:
    async with services.db.read() as session:
        delivery = await session.get(ChannelDelivery, delivery_id)
        assert delivery is not None
        message = await session.get(Message, delivery.message_id)
        request = await session.get(ClientRequest, delivery.request_id)
        if message is None or request is None:
            return
        client = await session.get(Client, request.client_id)
        resource = await session.get(Resource, request.resource_id)
        (read,) = await message_reads(session, [message])
        attachments = {
            a.id: a
            for a in await session.scalars(
                select(Attachment).where(Attachment.message_id == message.id)
            )
        }
    assert client is not None and resource is not None
    adapter = adapters.get(resource.kind)
    outcome, error, retry_in = DELIVERY_SENT, "", 0.0
    try:
        if adapter is None:
            raise DeliveryFailed(f"no adapter for {resource.kind}")
        files = [
            await _outgoing(services, a, attachments[a.id].storage_key) for a in read.attachments
        ]
        await adapter.send(resource, client, read, files)
    except RetryLater as exc:
        outcome, error, retry_in = DELIVERY_PENDING, str(exc), exc.seconds
    except DeliveryFailed as exc:
        outcome, error = DELIVERY_FAILED, str(exc)
    except Exception as exc:  # an unexpected error must not lose the message: retry with back-off
        log.exception("delivery %s failed", delivery_id)
        outcome, error, retry_in = DELIVERY_PENDING, str(exc), 0.0
    outcome = await _record(services, delivery_id, outcome, error, retry_in)
    CHANNEL_DELIVERIES.labels(resource.kind, OUTCOME_LABELS[outcome]).inc()


# How /metrics names each outcome of an attempt.
OUTCOME_LABELS = {DELIVERY_SENT: "sent", DELIVERY_PENDING: "retry", DELIVERY_FAILED: "failed"}


async def _outgoing(services: Services, attachment: AttachmentRead, key: str) -> OutgoingFile:
    if not await services.files.exists(key):
        raise DeliveryFailed(f"file {attachment.id} is no longer stored")
    return OutgoingFile(attachment, lambda: services.files.read(key))


async def _record(
    services: Services, delivery_id: int, outcome: str, error: str, retry_in: float
) -> str:
    """Store an attempt's outcome; returns it (a last failed attempt becomes ``failed``)."""
    async with services.db.transaction() as uow:
        delivery = await uow.session.get(ChannelDelivery, delivery_id)
        assert delivery is not None
        delivery.last_error = error[:2000]
        if outcome == DELIVERY_PENDING and delivery.attempts >= MAX_ATTEMPTS and not retry_in:
            outcome = DELIVERY_FAILED
        delivery.status = outcome
        if outcome == DELIVERY_PENDING:
            backoff = retry_in or min(300.0, 2.0**delivery.attempts)
            delivery.due_at = utcnow() + timedelta(seconds=backoff)
        if outcome != DELIVERY_PENDING:
            await _mark_message(uow, delivery, outcome, error)
    return outcome


async def _mark_message(
    uow: UnitOfWork, delivery: ChannelDelivery, outcome: str, error: str
) -> None:
    """The outcome shown on the message, where the employee sees it."""
    message = await uow.session.get(Message, delivery.message_id)
    request = await uow.session.get(ClientRequest, delivery.request_id)
    if message is None or request is None:
        return
    message.meta = {
        **(message.meta or {}),
        "delivery": outcome,
        **({"delivery_error": error[:300]} if error else {}),
    }
    await uow.session.flush()
    (read,) = await message_reads(uow.session, [message])
    viewers = [request.assignee_id] if request.assignee_id else []
    uow.emit(
        RequestMessageCreated(request_id=request.id, message=read), Audience.employees(viewers)
    )


async def mark_undelivered(services: Services, kind: str, message_id: int, error: str) -> None:
    """A message the messenger took, then reported it could not deliver (WhatsApp tells so
    later, by a webhook): failed, on the message as any refusal is."""
    async with services.db.transaction() as uow:
        delivery = await uow.session.scalar(
            select(ChannelDelivery).where(ChannelDelivery.message_id == message_id)
        )
        if delivery is None:
            return
        delivery.status = DELIVERY_FAILED
        delivery.last_error = error[:2000]
        await _mark_message(uow, delivery, DELIVERY_FAILED, error)
    CHANNEL_DELIVERIES.labels(kind, OUTCOME_LABELS[DELIVERY_FAILED]).inc()


async def deliver_due(
    services: Services, adapters: dict[str, MessengerAdapter], limit: int = 20
) -> int:
    ids = await _lease(services, limit)
    # One client's messages must keep their order: send sequentially.
    for delivery_id in ids:
        await _send_one(services, adapters, delivery_id)
    return len(ids)


async def run_deliveries(services: Services, adapters: dict[str, MessengerAdapter]) -> None:
    outage = OutageLog(log, "channel deliveries")
    while True:
        try:
            while await deliver_due(services, adapters) > 0:
                pass
        except Exception as exc:
            outage.failed(exc)
        else:
            outage.succeeded()
        await asyncio.sleep(services.settings.timer_interval_seconds)
