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
    # How many requests match, counted up to a limit (see archive.TOTAL_COUNTED_UP_TO): when
    # ``total_exact`` is false there are more than ``total``.
    total: int
    total_exact: bool = True
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


class ReportFilters(BaseModel):
    """The period (whole days in ``tz``) and, optionally, one resource, queue or employee."""

    date_from: date
    date_to: date
    tz: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    resource_id: int | None = Field(default=None, ge=1)
    queue_id: int | None = Field(default=None, ge=1)
    employee_id: int | None = Field(default=None, ge=1)


class Durations(BaseModel):
    count: int
    median_seconds: float | None
    p90_seconds: float | None


class RatingFigures(BaseModel):
    count: int
    average: float | None
    # How many of each score, 1 to 5.
    distribution: list[int]
    # The share of 4s and 5s.
    satisfied_share: float | None


class EmployeeFigures(BaseModel):
    id: int
    name: str
    handled: int
    first_response: Durations
    resolution: Durations
    rating_average: float | None
    ratings: int


class TeamReport(BaseModel):
    created: int
    closed: int
    missed: int
    first_response: Durations
    resolution: Durations
    queue_wait: Durations
    ratings: RatingFigures
    employees: list[EmployeeFigures]
    # Requests created, by hour of the day (0–23) and by day of the week (Monday first).
    by_hour: list[int]
    by_weekday: list[int]


class LiveQueue(BaseModel):
    id: int
    name: str
    resource_id: int
    resource_name: str
    waiting: int
    # Since when the longest-waiting request waits (None: nobody waits).
    oldest_waiting_since: datetime | None


class LiveEmployee(BaseModel):
    id: int
    name: str
    status: str
    holding: int
    # How many requests routing gives them at most (None: no limit).
    capacity: int | None


class LiveView(BaseModel):
    """The team right now, for those who oversee it: each queue's load, each employee's."""

    queues: list[LiveQueue]
    employees: list[LiveEmployee]
