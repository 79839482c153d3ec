from typing import Literal

from impserver.domains.rooms.schemas import MessageRead, RoomRead
from impserver.realtime.events import Event


class RoomUpdated(Event):
    """A room appeared for the recipient, or its name or members changed."""

    type: Literal["room.updated"] = "room.updated"
    room: RoomRead


class RoomRemoved(Event):
    """The recipient left or was removed: the room disappears from their list."""

    type: Literal["room.removed"] = "room.removed"
    room_id: int


class MessageCreated(Event):
    type: Literal["message.created"] = "message.created"
    message: MessageRead


class MessageUpdated(Event):
    """Edited or deleted (``message.deleted`` is then true)."""

    type: Literal["message.updated"] = "message.updated"
    message: MessageRead


class ReadMarkMoved(Event):
    type: Literal["room.read"] = "room.read"
    room_id: int
    employee_id: int
    message_id: int


class Typing(Event):
    type: Literal["typing"] = "typing"
    room_id: int
    employee_id: int
    name: str
