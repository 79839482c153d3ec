from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from impserver.domains.ratings.models import Rating


async def scores_of_client(session: AsyncSession, client_id: int) -> dict[int, int]:
    """The scores a client gave, by request."""
    rows = await session.execute(
        select(Rating.request_id, Rating.score)
        .where(Rating.client_id == client_id)
        .where(Rating.score.is_not(None))
    )
    return {request_id: score for request_id, score in rows if score is not None}
