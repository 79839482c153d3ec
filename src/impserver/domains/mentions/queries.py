from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from impserver.domains.clients.models import Client
from impserver.domains.mentions.models import Mention
from impserver.domains.mentions.schemas import MentionList, MentionPlace, MentionRead
from impserver.domains.requests.models import ClientRequest
from impserver.domains.requests.search import readable_by
from impserver.domains.rooms.messaging import message_reads
from impserver.domains.rooms.models import ROOM_REQUEST, Message, Room, RoomMember

MENTION_LIMIT = 50


def _still_readable(employee_id: int) -> ColumnElement[bool]:
    """A mention shows while its reader may still read where it was written: a member of the
    room, or someone who may read the request (who left a room no longer sees its mentions)."""
    member = exists().where(RoomMember.room_id == Room.id, RoomMember.employee_id == employee_id)
    return or_(
        and_(Room.kind != ROOM_REQUEST, member),
        and_(Room.kind == ROOM_REQUEST, ClientRequest.id.is_not(None), readable_by(employee_id)),
    )


async def mentions_of(
    session: AsyncSession, employee_id: int, *, unread_only: bool = False
) -> MentionList:
    """The employee's newest mentions (unread only, if asked) and how many are unread."""
    base = (
        select(Mention, Message, Room, ClientRequest.id, Client.display_name)
        .join(Message, Message.id == Mention.message_id)
        .join(Room, Room.id == Message.room_id)
        .outerjoin(ClientRequest, ClientRequest.room_id == Room.id)
        .outerjoin(Client, Client.id == ClientRequest.client_id)
        .where(Mention.employee_id == employee_id)
        .where(Message.deleted_at.is_(None))
        .where(_still_readable(employee_id))
    )
    unread = await session.scalar(
        select(func.count()).select_from(
            base.where(Mention.read_at.is_(None)).with_only_columns(Mention.id).subquery()
        )
    )
    if unread_only:
        base = base.where(Mention.read_at.is_(None))
    rows = (await session.execute(base.order_by(Mention.id.desc()).limit(MENTION_LIMIT))).all()
    reads = await message_reads(session, [row[1] for row in rows])
    mentions = []
    for (mention, _, room, request_id, client_name), message in zip(rows, reads, strict=True):
        if request_id is not None:
            place = MentionPlace(kind="request", id=request_id, name=client_name or "")
        else:
            place = MentionPlace.of_room(room)
        mentions.append(
            MentionRead(
                id=mention.id,
                message=message,
                place=place,
                read=mention.read_at is not None,
                created_at=mention.created_at,
            )
        )
    return MentionList(unread=unread or 0, mentions=mentions)
