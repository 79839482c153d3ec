from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from impserver.core.http import InputModel
from impserver.domains.routing.models import DEFAULT_WAIT_AMBER_MINUTES, DEFAULT_WAIT_RED_MINUTES

AvailabilityStatus = Literal["online", "away", "offline"]
RoutingMode = Literal["manual", "automatic"]
OnOffline = Literal["keep", "return"]
Capacity = Annotated[int, Field(ge=1, le=1000)]


class StrictModel(InputModel):
    pass


class StatusUpdate(StrictModel):
    status: AvailabilityStatus
    # False: the workspace saw the employee go idle or come back (never overrides a choice).
    by_hand: bool = True


class MyStatus(BaseModel):
    status: AvailabilityStatus
    chosen_by_hand: bool


class ColleagueStatus(BaseModel):
    employee_id: int
    status: AvailabilityStatus


class Availabilities(BaseModel):
    """Everyone's status, the asker's own, and when their workspace should call them Away."""

    away_after_minutes: float
    mine: MyStatus
    employees: list[ColleagueStatus]


class QueueRoutingRead(BaseModel):
    queue_id: int
    mode: RoutingMode
    reassign_after_minutes: int | None
    on_offline: OnOffline
    wait_amber_minutes: int
    wait_red_minutes: int


Minutes = Annotated[int, Field(ge=1, le=10_080)]


class QueueRoutingUpdate(StrictModel):
    mode: RoutingMode = "manual"
    reassign_after_minutes: Minutes | None = None
    on_offline: OnOffline = "keep"
    wait_amber_minutes: Minutes = DEFAULT_WAIT_AMBER_MINUTES
    wait_red_minutes: Minutes = DEFAULT_WAIT_RED_MINUTES

    @model_validator(mode="after")
    def _red_after_amber(self) -> QueueRoutingUpdate:
        if self.wait_red_minutes <= self.wait_amber_minutes:
            raise PydanticCustomError(
                "red_before_amber", "wait_red_minutes must be more than wait_amber_minutes"
            )
        return self


class EmployeeCapacity(BaseModel):
    employee_id: int
    capacity: Capacity | None
    status: AvailabilityStatus
    open_requests: int


class CapacityRead(BaseModel):
    default_capacity: Capacity | None
    employees: list[EmployeeCapacity]


class EmployeeCapacityUpdate(StrictModel):
    employee_id: int
    capacity: Capacity | None


class CapacityUpdate(StrictModel):
    default_capacity: Capacity | None = None
    employees: list[EmployeeCapacityUpdate] = Field(default_factory=list, max_length=1000)


def _no_working_time() -> list[list[list[str]]]:
    return [[] for _ in range(7)]


Clock = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
# [start, end]
Interval = Annotated[list[Clock], Field(min_length=2, max_length=2)]


class BusinessHoursBody(StrictModel):
    """A weekly schedule (Monday first; each day a list of [start, end] in "HH:MM", "24:00"
    ending a day) in a time zone, with days off."""

    enabled: bool = False
    time_zone: Annotated[str, Field(max_length=64)] = "Europe/Moscow"
    week: list[list[Interval]] = Field(default_factory=_no_working_time, min_length=7, max_length=7)
    days_off: list[date] = Field(default_factory=list, max_length=366)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "unknown_time_zone", "Unknown time zone (use a name like Europe/Moscow)"
            ) from None
        return value

    @field_validator("week")
    @classmethod
    def _ordered_intervals(cls, week: list[list[list[str]]]) -> list[list[list[str]]]:
        for day in week:
            if len(day) > 12:
                raise PydanticCustomError("too_many_intervals", "At most 12 intervals a day")
            previous_end = ""
            for start, end in sorted(day):
                if end <= start:
                    raise PydanticCustomError(
                        "inverted_interval", "An interval must end after it starts"
                    )
                if previous_end and start < previous_end:
                    raise PydanticCustomError("overlapping_intervals", "Intervals must not overlap")
                previous_end = end
        return [sorted(day) for day in week]
