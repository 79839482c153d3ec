"""Employees' rooms: creating, naming, membership, messages, read marks, typing."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select

from impserver.core.clock import utcnow
from impserver.core.errors import Forbidden, InvalidInput, NotFound
from impserver.core.unit_of_work import DriverUnit, UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.mentions import actions as mention_actions
from impserver.domains.mentions.schemas import MentionPlace
from impserver.domains.rooms import access, queries
from impserver.domains.rooms.events import (
    MessageCreated,
    MessageDeleted,
    MessageUpdated,
    ReadMarkMoved,
    RoomCreated,
    RoomRemoved,
    RoomUpdated,
    Typing,
)
from impserver.domains.rooms.idempotency import send_idempotently
from impserver.domains.rooms.messaging import (
    append_message,
    employee_author,
    message_reads,
    post_to_room_on_driver,
    text_in_unit,
)
from impserver.domains.rooms.models import (
    ROOM_DIRECT,
    ROOM_TEAM,
    Message,
    Room,
    RoomMember,
    search_text_of,
)
from impserver.domains.rooms.schemas import EmployeeMessageCreate, MessageRead, RoomRead
from impserver.realtime.events import Audience
from impserver.services import Services


async def _active_employees(uow: UnitOfWork, ids: set[int]) -> list[Employee]:
    employees = list(
        await uow.session.scalars(
            select(Employee).where(Employee.id.in_(ids)).where(Employee.is_active.is_(True))
        )
    )
    if missing := ids - {e.id for e in employees}:
        raise NotFound(
            f"No such employee: {', '.join(map(str, sorted(missing)))}.", code="employee_not_found"
        )
    return employees


async def _announce(uow: UnitOfWork, room: Room, newcomer_ids: Collection[int] = ()) -> RoomRead:
    """Tell the members: ``room.created`` to those it is new to, ``room.updated`` to the rest."""
    await uow.session.flush()
    read = await queries.room_read(uow.session, room)
    member_ids = {m.id for m in read.members}
    newcomer_ids = set(newcomer_ids)
    uow.emit(RoomCreated(room=read), Audience.employees(member_ids & newcomer_ids))
    uow.emit(RoomUpdated(room=read), Audience.employees(member_ids - newcomer_ids))
    return read


async def _record(
    uow: UnitOfWork, room: Room, audience: Collection[int], event: str, **names: str
) -> None:
    """A system line in the room's history. It keeps the event's code and the names involved,
    not a sentence: each reader's workspace words it in their own language."""
    message, _ = await append_message(
        uow,
        room,
        body="",
        kind="system",
        meta={"transition": f"room.{event}", **names},
    )
    uow.emit(MessageCreated(message=message), Audience.employees(audience))


async def create_room(
    services: Services, actor: Employee, name: str, member_ids: list[int]
) -> RoomRead:
    async with services.db.transaction() as uow:
        others = await _active_employees(uow, set(member_ids) - {actor.id})
        if not others:
            raise InvalidInput(
                "Pick at least one colleague for the room.", code="room_needs_colleague"
            )
        name = name.strip() or ", ".join(sorted([actor.name, *(e.name for e in others)]))[:200]
        room = Room(kind=ROOM_TEAM, name=name, creator_id=actor.id)
        uow.session.add(room)
        await uow.session.flush()
        members = {actor.id, *(o.id for o in others)}
        uow.session.add_all(RoomMember(room_id=room.id, employee_id=e) for e in members)
        read = await _announce(uow, room, newcomer_ids=members)
    return read


async def open_direct_room(services: Services, actor: Employee, other_id: int) -> RoomRead:
    if other_id == actor.id:
        raise InvalidInput("A direct conversation needs another person.", code="direct_needs_other")
    async with services.db.transaction() as uow:
        (other,) = await _active_employees(uow, {other_id})
        # Locking both people (in id order) makes two simultaneous opens of the same pair wait
        # for each other, so the second finds the first's room instead of making a duplicate.
        await uow.session.execute(
            select(Employee.id)
            .where(Employee.id.in_([actor.id, other_id]))
            .order_by(Employee.id)
            .with_for_update()
        )
        mine = select(RoomMember.room_id).where(RoomMember.employee_id == actor.id)
        theirs = select(RoomMember.room_id).where(RoomMember.employee_id == other_id)
        existing = await uow.session.scalar(
            select(Room)
            .where(Room.kind == ROOM_DIRECT)
            .where(Room.id.in_(mine))
            .where(Room.id.in_(theirs))
        )
        if existing is not None:
            return await queries.room_read(uow.session, existing, actor.id)
        room = Room(kind=ROOM_DIRECT, name="", creator_id=actor.id)
        uow.session.add(room)
        await uow.session.flush()
        uow.session.add_all(
            [
                RoomMember(room_id=room.id, employee_id=actor.id),
                RoomMember(room_id=room.id, employee_id=other.id),
            ]
        )
        return await _announce(uow, room, newcomer_ids={actor.id, other.id})


async def rename_room(services: Services, actor: Employee, room_id: int, name: str) -> RoomRead:
    async with services.db.transaction() as uow:
        room = await access.member_room(uow.session, room_id, actor.id)
        if room.kind != ROOM_TEAM:
            raise InvalidInput(
                "Only group rooms have a name to change.", code="room_rename_group_only"
            )
        previous, room.name = room.name, name
        read = await _announce(uow, room)
        if name != previous:
            members = [m.id for m in read.members]
            await _record(
                uow, room, members, "renamed", actor=actor.name, name=name, previous=previous
            )
        return read


async def add_members(
    services: Services, actor: Employee, room_id: int, employee_ids: list[int]
) -> RoomRead:
    async with services.db.transaction() as uow:
        room = await access.member_room(uow.session, room_id, actor.id)
        if room.kind != ROOM_TEAM:
            raise InvalidInput(
                "People can be added to group rooms only.", code="room_add_group_only"
            )
        current = set(await access.member_ids(uow.session, room.id))
        newcomers = await _active_employees(uow, set(employee_ids) - current)
        uow.session.add_all(RoomMember(room_id=room.id, employee_id=e.id) for e in newcomers)
        # The newcomers learn of the room first, then of the lines that say they joined.
        read = await _announce(uow, room, newcomer_ids={e.id for e in newcomers})
        everyone = current | {e.id for e in newcomers}
        for newcomer in sorted(newcomers, key=lambda e: e.name):
            await _record(uow, room, everyone, "added", actor=actor.name, member=newcomer.name)
        return read


async def remove_member(
    services: Services, actor: Employee, room_id: int, employee_id: int
) -> RoomRead | None:
    """Leave (``employee_id`` is the actor) or, for the room's creator, remove someone."""
    async with services.db.transaction() as uow:
        room = await access.member_room(uow.session, room_id, actor.id)
        leaving = employee_id == actor.id
        if not leaving and room.creator_id != actor.id:
            raise Forbidden("Only the room's creator can remove members.", code="room_creator_only")
        if room.kind != ROOM_TEAM:
            raise InvalidInput(
                "You cannot leave a direct conversation.", code="direct_cannot_leave"
            )
        current = await access.member_ids(uow.session, room.id)
        if employee_id not in current:
            raise NotFound("That person is not in the room.", code="not_in_room")
        await uow.session.execute(
            delete(RoomMember)
            .where(RoomMember.room_id == room.id)
            .where(RoomMember.employee_id == employee_id)
        )
        uow.emit(RoomRemoved(room_id=room.id), Audience.employee(employee_id))
        remaining = [m for m in current if m != employee_id]
        if room.creator_id == employee_id and remaining:
            # The longest-standing member looks after the room from now on.
            room.creator_id = await uow.session.scalar(
                select(RoomMember.employee_id)
                .where(RoomMember.room_id == room.id)
                .order_by(RoomMember.joined_at, RoomMember.employee_id)
                .limit(1)
            )
        if not remaining:
            return None
        read = await _announce(uow, room)
        if leaving:
            await _record(uow, room, remaining, "left", actor=actor.name)
        else:
            removed = await uow.session.get(Employee, employee_id)
            await _record(
                uow,
                room,
                remaining,
                "removed",
                actor=actor.name,
                member=removed.name if removed else "",
            )
    return None if leaving else read


async def post_message(
    services: Services, actor: Employee, room_id: int, data: EmployeeMessageCreate
) -> tuple[MessageRead, bool]:
    """Send a message; a retry with the same ``client_message_id`` returns the first one."""
    return await send_idempotently(
        data.client_message_id, lambda: _post_message_once(services, actor, room_id, data)
    )


async def _post_message_once(
    services: Services, actor: Employee, room_id: int, data: EmployeeMessageCreate
) -> tuple[MessageRead, bool]:
    plain_text = not (data.attachment_ids or data.reply_to_id or data.mention_ids)
    if plain_text:
        # The busiest write of all: the same steps on the driver's connection, on PostgreSQL in
        # one statement when the event can be stored with the message.
        async with services.db.driver_unit() as unit:
            if isinstance(unit, DriverUnit):
                posted = await post_to_room_on_driver(
                    services,
                    unit,
                    room_id,
                    actor,
                    body=data.body,
                    client_message_id=data.client_message_id,
                    announce=lambda message: MessageCreated(message=message),
                )
                if posted is not None:
                    return posted
            members = await access.member_ids_on_driver(unit, room_id, actor.id)
            return await text_in_unit(
                services,
                unit,
                room_id,
                employee_author(actor),
                body=data.body,
                client_message_id=data.client_message_id,
                announce=lambda message: [
                    (MessageCreated(message=message), Audience.employees(members))
                ],
            )
    async with services.db.transaction() as uow:
        room, members = await access.member_room_with_members(uow.session, room_id, actor.id)
        mentions = await mention_actions.plan_mentions(uow, actor.id, data.mention_ids, members)
        message, created = await append_message(
            uow,
            room,
            body=data.body,
            author_employee_id=actor.id,
            attachment_ids=data.attachment_ids,
            client_message_id=data.client_message_id,
            author=employee_author(actor),
            read_by_author=True,
            reply_to_id=data.reply_to_id,
            meta=mentions.meta,
        )
        if created:
            uow.emit(MessageCreated(message=message), Audience.employees(members))
            if mentions.reachable:
                where = await uow.session.get(Room, room)
                assert where is not None
                place = MentionPlace.of_room(where)
                await mention_actions.record_mentions(uow, mentions, message, place)
    return message, created


async def _authored_message(
    uow: UnitOfWork, actor: Employee, room_id: int, message_id: int
) -> Message:
    await access.member_room(uow.session, room_id, actor.id)
    message = await uow.session.get(Message, message_id)
    if message is None or message.room_id != room_id or message.deleted_at is not None:
        raise NotFound("Message not found.", code="message_not_found")
    if message.author_employee_id != actor.id:
        raise Forbidden("Only the author can change a message.", code="message_author_only")
    return message


async def edit_message(
    services: Services, actor: Employee, room_id: int, message_id: int, body: str
) -> MessageRead:
    async with services.db.transaction() as uow:
        message = await _authored_message(uow, actor, room_id, message_id)
        message.body = body
        message.search_text = search_text_of(body)
        message.edited_at = utcnow()
        await uow.session.flush()
        (read,) = await message_reads(uow.session, [message])
        uow.emit(
            MessageUpdated(message=read),
            Audience.employees(await access.member_ids(uow.session, room_id)),
        )
    return read


async def delete_message(
    services: Services, actor: Employee, room_id: int, message_id: int
) -> None:
    async with services.db.transaction() as uow:
        message = await _authored_message(uow, actor, room_id, message_id)
        message.deleted_at = utcnow()
        message.search_text = ""
        await uow.session.flush()
        (read,) = await message_reads(uow.session, [message])
        uow.emit(
            MessageDeleted(room_id=room_id, message_id=message.id, message=read),
            Audience.employees(await access.member_ids(uow.session, room_id)),
        )


async def _move_read_mark(uow: UnitOfWork, room_id: int, employee_id: int, message_id: int) -> bool:
    member = await uow.session.get(RoomMember, (room_id, employee_id))
    if member is None or message_id <= member.last_read_message_id:
        return False
    member.last_read_message_id = message_id
    return True


async def mark_read(services: Services, actor: Employee, room_id: int, message_id: int) -> None:
    async with services.db.transaction() as uow:
        room = await access.member_room(uow.session, room_id, actor.id)
        # Never past the newest message: a read mark names a message that exists.
        message_id = min(message_id, room.last_message_id or 0)
        if await _move_read_mark(uow, room.id, actor.id, message_id):
            uow.emit(
                ReadMarkMoved(room_id=room.id, employee_id=actor.id, message_id=message_id),
                Audience.employees(await access.member_ids(uow.session, room.id)),
            )
            await mention_actions.read_in_conversation(uow, actor.id, room.id, message_id)


async def announce_typing(services: Services, actor_id: int, room_id: int) -> None:
    async with services.db.read() as session:
        actor = await session.get(Employee, actor_id)
        if actor is None:
            raise NotFound("Employee not found.", code="employee_not_found")
        await access.member_room(session, room_id, actor_id)
        others = [m for m in await access.member_ids(session, room_id) if m != actor_id]
    await services.db.publish_ephemeral(
        Typing(room_id=room_id, employee_id=actor_id, name=actor.name), Audience.employees(others)
    )
