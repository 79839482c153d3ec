from __future__ import annotations

import re

from sqlalchemy import select

from impserver.core.clock import utcnow
from impserver.core.errors import Forbidden, InvalidInput, NotFound
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts.models import Employee
from impserver.domains.replies.models import CannedReply, personal_scope, shared_scope
from impserver.domains.replies.queries import reply_read
from impserver.domains.replies.schemas import (
    MAX_CODE,
    MAX_TEXT,
    CannedReplyRead,
    CannedReplyWrite,
)
from impserver.domains.resources.models import Resource
from impserver.services import Services

# One word after "/" in a composer: letters of any alphabet, digits, "-" and "_".
_CODE = re.compile(r"^[\w-]+$")


def _code_of(data: CannedReplyWrite) -> str:
    code = data.code.strip().lower()
    if not code:
        raise InvalidInput("The code is empty.", code="reply_code_empty")
    if len(code) > MAX_CODE:
        raise InvalidInput(
            f"The code is longer than {MAX_CODE} characters.",
            code="reply_code_too_long",
            params={"max": MAX_CODE},
        )
    if not _CODE.match(code):
        raise InvalidInput(
            "The code is one word: letters, digits, '-' and '_'.", code="reply_code_format"
        )
    return code


def _text_of(data: CannedReplyWrite) -> str:
    text = data.text.strip()
    if not text:
        raise InvalidInput("The text is empty.", code="reply_text_empty")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"The text is longer than {MAX_TEXT} characters.",
            code="reply_text_too_long",
            params={"max": MAX_TEXT},
        )
    return text


async def _scope_of(uow: UnitOfWork, actor: Employee, data: CannedReplyWrite) -> str:
    if not data.shared:
        if data.resource_id is not None:
            raise InvalidInput(
                "Only a shared reply can be kept for one resource.",
                code="reply_resource_shared_only",
            )
        return personal_scope(actor.id)
    if not actor.is_admin:
        raise Forbidden("Only administrators keep shared replies.", code="admins_only")
    if data.resource_id is not None and await uow.session.get(Resource, data.resource_id) is None:
        raise NotFound("Resource not found.", code="resource_not_found")
    return shared_scope(data.resource_id)


async def _refuse_taken_code(
    uow: UnitOfWork, scope: str, code: str, keeping: int | None = None
) -> None:
    taken = await uow.session.scalar(
        select(CannedReply.id).where(CannedReply.scope == scope, CannedReply.code == code)
    )
    if taken is not None and taken != keeping:
        raise InvalidInput(
            f"The code /{code} is already used here.",
            code="reply_code_taken",
            params={"code": code},
        )


async def create_reply(
    services: Services, actor: Employee, data: CannedReplyWrite
) -> CannedReplyRead:
    code, text = _code_of(data), _text_of(data)
    async with services.db.transaction() as uow:
        scope = await _scope_of(uow, actor, data)
        await _refuse_taken_code(uow, scope, code)
        reply = CannedReply(
            scope=scope,
            owner_employee_id=None if data.shared else actor.id,
            resource_id=data.resource_id if data.shared else None,
            code=code,
            text=text,
        )
        uow.session.add(reply)
        await uow.session.flush()
        return reply_read(reply, actor)


async def _editable(uow: UnitOfWork, actor: Employee, reply_id: int) -> CannedReply:
    reply = await uow.session.get(CannedReply, reply_id)
    # Someone else's personal reply does not exist for this employee.
    if reply is None or (reply.owner_employee_id not in (None, actor.id)):
        raise NotFound("Canned reply not found.", code="reply_not_found")
    if reply.owner_employee_id is None and not actor.is_admin:
        raise Forbidden("Only administrators keep shared replies.", code="admins_only")
    return reply


async def update_reply(
    services: Services, actor: Employee, reply_id: int, data: CannedReplyWrite
) -> CannedReplyRead:
    code, text = _code_of(data), _text_of(data)
    async with services.db.transaction() as uow:
        reply = await _editable(uow, actor, reply_id)
        scope = await _scope_of(uow, actor, data)
        await _refuse_taken_code(uow, scope, code, keeping=reply.id)
        reply.scope = scope
        reply.owner_employee_id = None if data.shared else actor.id
        reply.resource_id = data.resource_id if data.shared else None
        reply.code, reply.text, reply.updated_at = code, text, utcnow()
        await uow.session.flush()
        return reply_read(reply, actor)


async def delete_reply(services: Services, actor: Employee, reply_id: int) -> None:
    async with services.db.transaction() as uow:
        reply = await _editable(uow, actor, reply_id)
        await uow.session.delete(reply)
