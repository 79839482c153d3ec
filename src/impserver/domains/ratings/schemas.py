from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from impserver.core.http import InputModel

MAX_COMMENT = 1000


class RatingCreate(InputModel):
    """The client's answer to "how did we do": 1 to 5, and a few words if they like."""

    request_id: int = Field(ge=1)
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_COMMENT)] = ""


class RatingOutcome(BaseModel):
    # False: the request was rated already, or asked too long ago; nothing changed.
    accepted: bool
    score: int | None
