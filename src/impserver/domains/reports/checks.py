"""What the archive's and the reports' filters have in common: they name things that exist."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.core.db import Base
from impserver.core.errors import InvalidInput


async def check_known(
    session: AsyncSession, filters: BaseModel, fields: dict[str, type[Base]], *, code: str
) -> None:
    """A filter naming something that does not exist is a mistake to point out (422 naming
    the field), not an empty page."""
    for field, model in fields.items():
        value = getattr(filters, field)
        if value is not None and await session.get(model, value) is None:
            raise InvalidInput(
                f"{field}: there is no such {field.removesuffix('_id')}.",
                code=code,
                params={"field": field},
            )
