from typing import Literal

from impserver.domains.rooms.schemas import MessageRead, RoomRead
from impserver.realtime.events import Event


class RoomCreated(Event):
    """A room appeared for the recipient: they created it, or were added to it."""

    type: Literal["room.created"] = "room.created"
    room: RoomRead


class RoomUpdated(Event):
    """A room the recipient already had changed its name or members."""

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
    """The author edited the message's text."""

    type: Literal["message.updated"] = "message.updated"
    message: MessageRead


class MessageDeleted(Event):
    """The author deleted the message; ``message`` is what is shown in its place now."""

    type: Literal["message.deleted"] = "message.deleted"
    room_id: int
    message_id: int
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
