from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from impserver.core.http import InputModel
from impserver.domains.rooms.models import ROOM_DIRECT, Room
from impserver.domains.rooms.schemas import MessageRead


class MentionPlace(BaseModel):
    """Where the mention was written: an employees' room or a client request (by its id)."""

    kind: Literal["team", "direct", "request"]
    id: int
    # The room's name; the client's name for a request; empty for a direct conversation (the
    # message's author is the other person).
    name: str

    @classmethod
    def of_room(cls, room: Room) -> MentionPlace:
        """An employees' room as a place of mentions."""
        return cls(
            kind="direct" if room.kind == ROOM_DIRECT else "team", id=room.id, name=room.name
        )


class MentionRead(BaseModel):
    id: int
    message: MessageRead
    place: MentionPlace
    read: bool
    created_at: datetime


class MentionList(BaseModel):
    unread: int
    mentions: list[MentionRead]


class MentionsMarkRead(InputModel):
    """Mentions read by their ids, or all of them."""

    ids: list[int] = Field(default_factory=list, max_length=200)
    all: bool = False
