from __future__ import annotations

import re

from sqlalchemy import delete, select

from impserver.core.errors import InvalidInput, NotFound
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.tags.models import RequestTag, Tag
from impserver.domains.tags.queries import tag_read
from impserver.domains.tags.schemas import MAX_NAME, TagRead, TagWrite
from impserver.services import Services

_COLOR = re.compile(r"^#[0-9a-f]{6}$")


def _checked(data: TagWrite) -> tuple[str, str, str]:
    name = " ".join(data.name.split())
    if not name:
        raise InvalidInput("The tag's name is empty.", code="tag_name_empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(
            f"The tag's name is longer than {MAX_NAME} characters.",
            code="tag_name_too_long",
            params={"max": MAX_NAME},
        )
    color = data.color.strip().lower()
    if not _COLOR.match(color):
        raise InvalidInput("The colour is not one of the form #rrggbb.", code="tag_color_invalid")
    return name, name.casefold(), color


async def _refuse_taken_name(uow: UnitOfWork, name: str, folded: str, keeping: int | None) -> None:
    taken = await uow.session.scalar(select(Tag.id).where(Tag.folded_name == folded))
    if taken is not None and taken != keeping:
        raise InvalidInput(
            f"There is already a tag named “{name}”.",
            code="tag_name_taken",
            params={"name": name},
        )


async def create_tag(services: Services, actor: Employee, data: TagWrite) -> TagRead:
    name, folded, color = _checked(data)
    async with services.db.transaction() as uow:
        await _refuse_taken_name(uow, name, folded, None)
        tag = Tag(name=name, folded_name=folded, color=color)
        uow.session.add(tag)
        await uow.session.flush()
        return tag_read(tag)


async def _tag(uow: UnitOfWork, tag_id: int) -> Tag:
    tag = await uow.session.get(Tag, tag_id)
    if tag is None:
        raise NotFound("Tag not found.", code="tag_not_found")
    return tag


async def update_tag(services: Services, actor: Employee, tag_id: int, data: TagWrite) -> TagRead:
    name, folded, color = _checked(data)
    async with services.db.transaction() as uow:
        tag = await _tag(uow, tag_id)
        await _refuse_taken_name(uow, name, folded, tag.id)
        tag.name, tag.folded_name, tag.color = name, folded, color
        await uow.session.flush()
        return tag_read(tag)


async def delete_tag(services: Services, actor: Employee, tag_id: int) -> None:
    async with services.db.transaction() as uow:
        tag = await _tag(uow, tag_id)
        await uow.session.execute(delete(RequestTag).where(RequestTag.tag_id == tag.id))
        await uow.session.delete(tag)


async def set_request_tags(uow: UnitOfWork, request_id: int, tag_ids: list[int]) -> None:
    """Replace a request's tags (the caller has checked that the actor may)."""
    wanted = set(tag_ids)
    if wanted:
        known = set(await uow.session.scalars(select(Tag.id).where(Tag.id.in_(wanted))))
        if unknown := wanted - known:
            raise InvalidInput(
                "A tag chosen for the request no longer exists.",
                code="tag_not_found",
                params={"tag_ids": sorted(unknown)},
            )
    current = set(
        await uow.session.scalars(
            select(RequestTag.tag_id).where(RequestTag.request_id == request_id)
        )
    )
    if gone := current - wanted:
        await uow.session.execute(
            delete(RequestTag).where(
                RequestTag.request_id == request_id, RequestTag.tag_id.in_(gone)
            )
        )
    for tag_id in sorted(wanted - current):
        uow.session.add(RequestTag(request_id=request_id, tag_id=tag_id))
