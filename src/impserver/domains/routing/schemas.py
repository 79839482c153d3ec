from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator
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
