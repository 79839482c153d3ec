"""Mentions: colleagues named with "@" in a room or in a request's note.

A mention reaches only someone who may read where it was written. Anyone else is told nothing;
the message itself keeps who was reached and who was not (``meta.mentions`` and
``meta.unreachable_mentions``), so its author sees at once that a colleague cannot read it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from impserver.core.clock import utcnow
from impserver.core.errors import InvalidInput
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.mentions.events import MentionCreated, MentionsRead
from impserver.domains.mentions.models import Mention
from impserver.domains.mentions.schemas import MentionPlace, MentionRead
from impserver.domains.rooms.models import Message
from impserver.domains.rooms.schemas import MessageRead
from impserver.realtime.events import Audience
from impserver.services import Services


@dataclass(frozen=True)
class MentionPlan:
    """Who of those named will be told, and who cannot read the place and will not."""

    reachable: list[Employee] = field(default_factory=list)
    unreachable: list[Employee] = field(default_factory=list)

    @property
    def meta(self) -> dict[str, Any]:
        """What the message keeps of its mentions."""
        meta: dict[str, Any] = {}
        if self.reachable:
            meta["mentions"] = [{"id": e.id, "name": e.name} for e in self.reachable]
        if self.unreachable:
            meta["unreachable_mentions"] = [{"id": e.id, "name": e.name} for e in self.unreachable]
        return meta


async def plan_mentions(
    uow: UnitOfWork, author_id: int, mention_ids: Collection[int], readers: Collection[int]
) -> MentionPlan:
    """Sort the colleagues named in a new message by whether they are among its ``readers``.
    Naming oneself is no mention; naming someone who does not exist is a mistake."""
    wanted = set(mention_ids) - {author_id}
    if not wanted:
        return MentionPlan()
    named = list(
        await uow.session.scalars(
            select(Employee)
            .where(Employee.id.in_(wanted))
            .where(Employee.is_active.is_(True))
            .order_by(Employee.name, Employee.id)
        )
    )
    if missing := wanted - {e.id for e in named}:
        raise InvalidInput(
            f"There is no colleague {min(missing)} to mention.",
            code="mention_unknown",
            params={"id": min(missing)},
        )
    readers = set(readers)
    return MentionPlan(
        reachable=[e for e in named if e.id in readers],
        unreachable=[e for e in named if e.id not in readers],
    )


async def record_mentions(
    uow: UnitOfWork, plan: MentionPlan, message: MessageRead, place: MentionPlace
) -> None:
    """Keep the mentions of a message just written and tell each person named, after commit."""
    if not plan.reachable:
        return
    mentions = [Mention(message_id=message.id, employee_id=e.id) for e in plan.reachable]
    uow.session.add_all(mentions)
    await uow.session.flush()
    for mention in mentions:
        read = MentionRead(
            id=mention.id,
            message=message,
            place=place,
            read=False,
            created_at=mention.created_at,
        )
        uow.emit(MentionCreated(mention=read), Audience.employee(mention.employee_id))


async def read_in_conversation(
    uow: UnitOfWork, employee_id: int, room_id: int, upto_message_id: int
) -> None:
    """The employee has read a conversation up to a message: the mentions of them in it up to
    that message are read too."""
    ids = list(
        await uow.session.scalars(
            select(Mention.id)
            .join(Message, Message.id == Mention.message_id)
            .where(Mention.employee_id == employee_id)
            .where(Mention.read_at.is_(None))
            .where(Message.room_id == room_id)
            .where(Message.id <= upto_message_id)
        )
    )
    await _mark(uow, employee_id, ids)


async def mark_read(
    services: Services, actor: Employee, ids: Collection[int], *, everything: bool = False
) -> None:
    """The actor read these of their mentions (or all): other ids are nobody's business here
    and change nothing."""
    async with services.db.transaction() as uow:
        query = (
            select(Mention.id)
            .where(Mention.employee_id == actor.id)
            .where(Mention.read_at.is_(None))
        )
        if not everything:
            query = query.where(Mention.id.in_(set(ids)))
        await _mark(uow, actor.id, list(await uow.session.scalars(query)))


async def _mark(uow: UnitOfWork, employee_id: int, ids: list[int]) -> None:
    if not ids:
        return
    await uow.session.execute(update(Mention).where(Mention.id.in_(ids)).values(read_at=utcnow()))
    uow.emit(MentionsRead(mention_ids=sorted(ids)), Audience.employee(employee_id))
