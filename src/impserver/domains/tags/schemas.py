from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from impserver.core.http import LARGEST_ID, Text

MAX_NAME = 40


class TagRead(BaseModel):
    id: int
    name: str
    color: str


class TagWrite(BaseModel):
    """A tag as written in its form; the action names what is wrong with it."""

    name: Text = Field(max_length=10 * MAX_NAME)
    color: Text = Field(max_length=32)


class RequestTags(BaseModel):
    """The tags a request carries from now on."""

    tag_ids: list[Annotated[int, Field(ge=1, le=LARGEST_ID)]] = Field(max_length=50)
