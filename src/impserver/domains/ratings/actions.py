"""Satisfaction ratings: the client is asked once a request is closed, and answers once.

The question goes out as a system line of the request meant for the client (the widget shows
the stars under it; a messenger, buttons); the answer is written on the request and shows in
its history to employees.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from impserver.core.clock import utcnow
from impserver.core.errors import NotFound
from impserver.core.integration_events import RATING_RECEIVED
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.ratings.models import Rating
from impserver.domains.ratings.schemas import RatingOutcome
from impserver.domains.requests.models import STATUS_CLOSED, ClientRequest
from impserver.domains.rooms.messaging import append_message
from impserver.domains.rooms.schemas import MessageRead
from impserver.services import Services

# An answer later than this is ignored: the conversation is too far back to judge.
ANSWER_WITHIN = timedelta(days=7)
# How long a messenger client's next message counts as the comment to their score.
COMMENT_WITHIN = timedelta(minutes=10)
TRANSITION_ASKED = "rating.asked"
REQUEST_NOT_FOUND = "Request not found."


async def ask(uow: UnitOfWork, request: ClientRequest, words: str) -> MessageRead:
    """Ask the client to rate the request just closed: the line that carries the question to
    them (the caller delivers it as it delivers any line meant for the client)."""
    uow.session.add(Rating(request_id=request.id, client_id=request.client_id))
    message, _ = await append_message(
        uow,
        request.room_id,
        body=words,
        kind="system",
        meta={"transition": TRANSITION_ASKED, "request_id": request.id, "client_visible": True},
    )
    return message


async def rate(
    services: Services, client_id: int, request_id: int, score: int, comment: str = ""
) -> RatingOutcome:
    """The client's score (and comment) for their request, taken once and within a week; a
    late or repeated answer changes nothing and is told so, not refused."""
    async with services.db.transaction() as uow:
        found = (
            await uow.session.execute(
                select(Rating, ClientRequest)
                .join(ClientRequest, ClientRequest.id == Rating.request_id)
                .where(Rating.request_id == request_id)
                .where(Rating.client_id == client_id)
                .with_for_update(of=Rating)
            )
        ).first()
        if found is None or found[1].status != STATUS_CLOSED:
            raise NotFound(REQUEST_NOT_FOUND, code="rating_not_asked")
        rating, request = found
        now = utcnow()
        if rating.score is not None or now - rating.asked_at > ANSWER_WITHIN:
            return RatingOutcome(accepted=False, score=rating.score)
        rating.score = score
        rating.comment = comment
        rating.rated_at = now
        rating.comment_until = None if comment else now + COMMENT_WITHIN
        # Two lines of words for the history: with a comment and without.
        transition = "rating.received_with_comment" if comment else "rating.received"
        await _record(uow, request, transition, score=score, comment=comment)
        _tell_integrations(uow, request, rating)
        return RatingOutcome(accepted=True, score=score)


async def take_comment(services: Services, client_id: int, text: str) -> bool:
    """A messenger client's message right after their score: their comment to it, if it is
    one (True), rather than the start of a new request."""
    text = text.strip()
    if not text:
        return False
    async with services.db.transaction() as uow:
        found = (
            await uow.session.execute(
                select(Rating, ClientRequest)
                .join(ClientRequest, ClientRequest.id == Rating.request_id)
                .where(Rating.client_id == client_id)
                .where(Rating.comment_until > utcnow())
                .order_by(Rating.id.desc())
                .limit(1)
                .with_for_update(of=Rating)
            )
        ).first()
        if found is None:
            return False
        rating, request = found
        rating.comment = text[:1000]
        rating.comment_until = None
        await _record(uow, request, "rating.commented", comment=rating.comment)
        # Told again with the comment: a receiver keeps one rating per request.
        _tell_integrations(uow, request, rating)
        return True


def _tell_integrations(uow: UnitOfWork, request: ClientRequest, rating: Rating) -> None:
    uow.tell_integrations(
        RATING_RECEIVED,
        request.resource_id,
        lambda: {
            "request_id": request.id,
            "client_id": request.client_id,
            "employee_id": request.assignee_id or request.closed_by_id,
            "score": rating.score,
            "comment": rating.comment,
            "rated_at": rating.rated_at.isoformat() if rating.rated_at else None,
        },
    )


async def _record(
    uow: UnitOfWork, request: ClientRequest, transition: str, **details: object
) -> None:
    """A line in the request's history for employees (the request is closed: nobody has it
    open to be told now; whoever opens it reads it)."""
    await append_message(
        uow,
        request.room_id,
        body="",
        kind="system",
        meta={"transition": transition, "client_visible": False, **details},
    )
