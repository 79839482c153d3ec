from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from impserver.domains.requests.schemas import ClientBrief, RequestStatus
from impserver.domains.rooms.schemas import MessageRead
from impserver.domains.tags.schemas import TagRead

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# The longest period one archive query may span.
MAX_RANGE_DAYS = 366


class ArchiveFilters(BaseModel):
    """What the archive is narrowed to; every filter is optional."""

    status: RequestStatus | None = None
    resource_id: int | None = Field(default=None, ge=1)
    queue_id: int | None = Field(default=None, ge=1)
    employee_id: int | None = Field(default=None, ge=1)
    tag_id: int | None = Field(default=None, ge=1)
    # Requests created on these days (inclusive), in UTC.
    date_from: date | None = None
    date_to: date | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    # The client's name or one of their contacts contains this.
    client: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class ArchiveRow(BaseModel):
    id: int
    status: RequestStatus
    client: ClientBrief
    resource: str
    queue: str | None
    assignee: str | None
    created_at: datetime
    closed_at: datetime | None
    rating: int | None
    tags: list[TagRead]


class ArchivePage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[ArchiveRow]


class ArchiveRating(BaseModel):
    score: int
    comment: str
    rated_at: datetime | None


class ArchiveDetail(BaseModel):
    """One request as the archive shows it, read only: its facts, rating and history."""

    request: ArchiveRow
    rating: ArchiveRating | None
    messages: list[MessageRead]
    has_older: bool


class NamedOption(BaseModel):
    id: int
    name: str


class QueueOption(NamedOption):
    resource_id: int


class ArchiveChoices(BaseModel):
    """What the archive's filters offer the viewer: everything to an administrator; to an
    employee, the resources and queues they serve, and themselves."""

    resources: list[NamedOption]
    queues: list[QueueOption]
    employees: list[NamedOption]
