from typing import Literal

from impserver.domains.requests.schemas import RequestCard, VisitorRequestState
from impserver.domains.rooms.schemas import MessageRead
from impserver.realtime.events import Event


class RequestUpdated(Event):
    """A request the recipient can see appeared or changed (Queue or Requests list)."""

    type: Literal["request.updated"] = "request.updated"
    request: RequestCard


class RequestRemoved(Event):
    """The request is no longer the recipient's to see (taken, moved, closed, declined)."""

    type: Literal["request.removed"] = "request.removed"
    request_id: int


class QueueLoadChanged(Event):
    """A request of the resource entered or left a queue or an employee's hands: the live view
    of those who oversee the resource (administrators, its supervisors) reads again."""

    type: Literal["queue.load"] = "queue.load"
    resource_id: int


class RequestTakenBack(Event):
    """Routing took the recipient's request back to its queue: they had left the client
    unanswered too long (``silence``) or went Offline (``offline``)."""

    type: Literal["request.taken_back"] = "request.taken_back"
    request_id: int
    reason: Literal["silence", "offline"]


class RequestMessageCreated(Event):
    """A message in a client request's room, for the employees who see the request."""

    type: Literal["request.message"] = "request.message"
    request_id: int
    message: MessageRead


# What the widget visitor receives.


class VisitorMessage(Event):
    type: Literal["message.created"] = "message.created"
    message: MessageRead


class VisitorRequestChanged(Event):
    type: Literal["request.state"] = "request.state"
    request: VisitorRequestState | None


class VisitorTyping(Event):
    type: Literal["typing"] = "typing"
    name: str


class ClientTyping(Event):
    """The client of the recipient's request is typing (``typing`` false: they stopped, or
    sent it). ``draft`` is what they have typed so far, where the resource shows it to
    employees (``Resource.typing_preview``); None where it does not."""

    type: Literal["request.client_typing"] = "request.client_typing"
    request_id: int
    typing: bool
    draft: str | None = None


class ClientRead(Event):
    """The client of the recipient's request has seen the conversation up to ``upto``."""

    type: Literal["request.client_read"] = "request.client_read"
    request_id: int
    upto: int


class VisitorRead(Event):
    """The employee answering the visitor has seen the conversation up to ``upto``."""

    type: Literal["read"] = "read"
    upto: int
