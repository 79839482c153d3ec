from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.tags.models import RequestTag, Tag
from impserver.domains.tags.schemas import TagRead


def tag_read(tag: Tag) -> TagRead:
    return TagRead(id=tag.id, name=tag.name, color=tag.color)


async def all_tags(session: AsyncSession) -> list[TagRead]:
    return [tag_read(t) for t in await session.scalars(select(Tag).order_by(Tag.folded_name))]


async def tags_of_requests(
    session: AsyncSession, request_ids: Iterable[int]
) -> dict[int, list[TagRead]]:
    """Each request's tags, by name: one query for any number of requests."""
    ids = list(request_ids)
    found: dict[int, list[TagRead]] = defaultdict(list)
    if not ids:
        return found
    rows = await session.execute(
        select(RequestTag.request_id, Tag)
        .join(Tag, Tag.id == RequestTag.tag_id)
        .where(RequestTag.request_id.in_(ids))
        .order_by(Tag.folded_name)
    )
    for request_id, tag in rows:
        found[request_id].append(tag_read(tag))
    return found
