from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, update

from impserver.core.clock import utcnow
from impserver.core.errors import Forbidden, NotFound
from impserver.core.integration_events import CLIENT_BLOCKED
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.blocking import queries
from impserver.domains.blocking.models import (
    PART_ADDRESS,
    PART_CONTACT,
    PART_VISITOR,
    BlockPart,
)
from impserver.domains.blocking.schemas import PERIODS, BlockPeriod
from impserver.domains.clients.actions import revoke_visitor_tokens
from impserver.domains.clients.models import Client, Contact
from impserver.services import Services


class BlockedBy(Forbidden):
    """A new conversation refused by a block part; the caller counts it once the refusing
    transaction is over (``count_refusal``), as nothing else of the person is kept."""

    code = "blocked"

    def __init__(self, part_id: int, detail: str) -> None:
        super().__init__(detail, code="blocked")
        self.part_id = part_id


async def block_client(
    uow: UnitOfWork,
    client: Client,
    actor: Employee,
    *,
    reason: str,
    address_period: BlockPeriod,
    client_period: BlockPeriod,
) -> None:
    """Q-2a: block the client, their network address and the contacts they gave."""
    now = utcnow()

    def until(period: BlockPeriod) -> datetime | None:
        length = PERIODS[period]
        return None if length is None else now + length

    client.is_blocked = True
    client.blocked_at = now
    client.blocked_by_id = actor.id
    client.blocked_reason = reason
    await revoke_visitor_tokens(uow, client.id)
    # A block made again replaces what the earlier one covered.
    await _lift(uow, select(BlockPart.id).where(BlockPart.client_id == client.id), actor, now)
    common = {"resource_id": client.resource_id, "client_id": client.id, "reason": reason}
    parts = [
        BlockPart(**common, part=PART_VISITOR, until=until(client_period), created_by_id=actor.id)
    ]
    network = queries.network_of(client.last_address)
    if network is not None:
        parts.append(
            BlockPart(
                **common,
                part=PART_ADDRESS,
                value=network,
                until=until(address_period),
                created_by_id=actor.id,
            )
        )
    contacts = await uow.session.scalars(select(Contact).where(Contact.client_id == client.id))
    for key in queries.contact_keys(contacts):
        parts.append(
            BlockPart(
                **common,
                part=PART_CONTACT,
                value=key,
                until=until(client_period),
                created_by_id=actor.id,
            )
        )
    uow.session.add_all(parts)
    uow.tell_integrations(
        CLIENT_BLOCKED,
        client.resource_id,
        lambda: {
            "client": {
                "id": client.id,
                "resource_id": client.resource_id,
                "display_name": client.display_name,
            },
            "reason": reason,
            "by_employee_id": actor.id,
            # When each part of the block ends (None: never).
            "until": {part.part: part.until.isoformat() if part.until else None for part in parts},
        },
    )


async def _lift(
    uow: UnitOfWork, part_ids: Select[int], actor: Employee | None, now: datetime
) -> None:
    await uow.session.execute(
        update(BlockPart)
        .where(BlockPart.id.in_(part_ids))
        .where(BlockPart.lifted_at.is_(None))
        .values(lifted_at=now, lifted_by_id=actor.id if actor else None)
    )


def _unblock(client: Client) -> None:
    client.is_blocked = False
    client.blocked_at = None
    client.blocked_by_id = None
    client.blocked_reason = ""


async def unblock_client(uow: UnitOfWork, client: Client, actor: Employee) -> None:
    """ "Разблокировать": every part of the client's block is lifted."""
    await _lift(uow, select(BlockPart.id).where(BlockPart.client_id == client.id), actor, utcnow())
    _unblock(client)


async def lift_part(services: Services, actor: Employee, part_id: int) -> None:
    """One part of a block is lifted; the others stay."""
    if not actor.is_admin:
        raise Forbidden("Only administrators can lift blocks.", code="admins_only")
    async with services.db.transaction() as uow:
        part = await uow.session.get(BlockPart, part_id)
        if part is None or part.lifted_at is not None:
            raise NotFound("There is no such block.", code="block_not_found")
        part.lifted_at = utcnow()
        part.lifted_by_id = actor.id
        if part.part == PART_VISITOR:
            client = await uow.session.get(Client, part.client_id)
            if client is not None:
                _unblock(client)


async def count_refusal(services: Services, part_id: int) -> None:
    async with services.db.transaction() as uow:
        await uow.session.execute(
            update(BlockPart).where(BlockPart.id == part_id).values(refused=BlockPart.refused + 1)
        )


async def end_expired_visitor_blocks(services: Services) -> int:
    """Clients whose block ran out may write again (the address and contact parts simply stop
    matching when theirs run out)."""
    now = utcnow()
    async with services.db.transaction() as uow:
        expired = list(
            await uow.session.scalars(
                select(Client)
                .join(BlockPart, BlockPart.client_id == Client.id)
                .where(Client.is_blocked.is_(True))
                .where(BlockPart.part == PART_VISITOR, BlockPart.lifted_at.is_(None))
                .where(BlockPart.until.is_not(None), BlockPart.until <= now)
            )
        )
        for client in expired:
            _unblock(client)
        return len(expired)
