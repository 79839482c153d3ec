from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from impserver.domains.rooms.schemas import MessageRead
from impserver.domains.tags.schemas import TagRead

RequestStatus = Literal["choosing", "waiting", "assigned", "closed"]


class NamedRef(BaseModel):
    id: int
    name: str


class ClientBrief(BaseModel):
    id: int
    name: str
    is_blocked: bool
    channel: str


class RequestCard(BaseModel):
    """A request as the workspace lists it (Queue, Requests)."""

    id: int
    room_id: int
    status: RequestStatus
    client: ClientBrief
    resource: NamedRef
    resource_kind: str
    queue: NamedRef | None
    assignee: NamedRef | None
    page_url: str
    browser: str
    language: str
    # The client's network address had been blocked before: a hint for the employee.
    address_blocked_before: bool = False
    created_at: datetime
    waiting_since: datetime | None
    # Since when the client has waited for an employee's reply (None: nobody owes them one),
    # and how long a wait shows amber, then red, on the cards (seconds, from the queue).
    awaiting_reply_since: datetime | None = None
    # Written while the team was not at work: it waited for the morning.
    outside_hours: bool = False
    wait_amber_seconds: int = 300
    wait_red_seconds: int = 900
    topic_due_at: datetime | None
    last_message: MessageRead | None
    unread: int = 0
    # How far the client has seen the conversation (a message id): the employee's messages up
    # to it show as read.
    client_read_upto: int = 0
    # None: not sent with this card, as what it announces (a client's new message) changes no
    # tags; the reader keeps those it knows.
    tags: list[TagRead] | None = []


class TransitionRead(BaseModel):
    id: int
    kind: str
    actor: str | None
    queue: str | None
    target: str | None
    details: dict[str, Any]
    created_at: datetime


class RequestDetail(RequestCard):
    history: list[TransitionRead]


class QueueTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queue_id: int


class SpecialistTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group_id: int
    employee_id: int


class GroupWithMembers(BaseModel):
    id: int
    name: str
    members: list[NamedRef]


class TransferOptions(BaseModel):
    queues: list[NamedRef]
    groups: list[GroupWithMembers]


class VisitorRequestState(BaseModel):
    """What the client may know about their request: no employee ids, no internal moves."""

    id: int
    status: RequestStatus
    queue_name: str | None
    operator_name: str | None
    topic_due_at: datetime | None
    topic_picked: bool
    # While it waits: its place in the queue (1: next) and the queue's usual wait (median of
    # its latest waits, in seconds; None when there are none to go by).
    position: int | None = None
    expected_wait_seconds: int | None = None


class ReadMarkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: int = Field(ge=0)
