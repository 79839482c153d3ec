from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.clock import utcnow
from impserver.domains.blocking.models import PART_ADDRESS, PART_CONTACT, BlockPart
from impserver.domains.clients.models import Contact

# The contacts a block can follow: kinds a person gives to be reached, written one way.
_DIGITS = re.compile(r"\D")


def network_of(address: str) -> str | None:
    """The network a block of ``address`` covers: the address itself for IPv4, its /64 for
    IPv6 (one subscriber's share; the low half is chosen by the device and changes)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified:
        # What a server sees when a proxy on its own host is not listed as trusted
        # (IMP_TRUSTED_PROXIES): everyone's address, so blocking it would block everyone.
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip
    return str(ipaddress.ip_network(f"{plain}/32"))


def contact_key(kind: str, value: str) -> str | None:
    if kind == "email":
        value = value.strip().lower()
        return f"email:{value}" if value else None
    if kind == "phone":
        digits = _DIGITS.sub("", value)
        return f"phone:{digits}" if digits else None
    return None


def contact_keys(contacts: Iterable[Contact]) -> list[str]:
    keys = (contact_key(c.kind, c.value) for c in contacts if not c.is_hidden)
    return sorted({k for k in keys if k})


def in_force(now: datetime | None = None) -> ColumnElement[bool]:
    now = now or utcnow()
    return and_(
        BlockPart.lifted_at.is_(None), or_(BlockPart.until.is_(None), BlockPart.until > now)
    )


async def address_block(session: AsyncSession, resource_id: int, address: str) -> BlockPart | None:
    """The block in force on the network ``address`` belongs to, if any."""
    network = network_of(address)
    if network is None:
        return None
    return await session.scalar(
        select(BlockPart)
        .where(BlockPart.resource_id == resource_id)
        .where(BlockPart.part == PART_ADDRESS, BlockPart.value == network)
        .where(in_force())
        .limit(1)
    )


async def address_blocked_before(session: AsyncSession, resource_id: int, address: str) -> bool:
    """Whether the network of ``address`` was blocked once (the block expired or was lifted)."""
    network = network_of(address)
    if network is None:
        return False
    found = await session.scalar(
        select(BlockPart.id)
        .where(BlockPart.resource_id == resource_id)
        .where(BlockPart.part == PART_ADDRESS, BlockPart.value == network)
        .limit(1)
    )
    return found is not None


async def contact_block(
    session: AsyncSession, resource_id: int, contacts: Iterable[Contact]
) -> BlockPart | None:
    keys = contact_keys(contacts)
    if not keys:
        return None
    return await session.scalar(
        select(BlockPart)
        .where(BlockPart.resource_id == resource_id)
        .where(BlockPart.part == PART_CONTACT, BlockPart.value.in_(keys))
        .where(in_force())
        .limit(1)
    )
