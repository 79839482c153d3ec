"""Typed realtime events and their audiences.

Each event type is one Pydantic model with a literal ``type`` and no extra fields. Domains declare
their events in ``domains/<name>/events.py``; actions emit them through the unit of work, which
stores them for resume and publishes them after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str


class RelayedEvent(Event):
    """An event that passes on what one party sent another: its fields hold plain JSON values
    as parsed from the sender's frame. It is written out as they are, without pydantic's
    serializer, which gives up on nesting deeper than a few hundred levels (a deep page's
    recorded DOM) and would walk megabytes of a page only to copy them."""


# What an employee's recipient key starts with (statements that select recipients write it).
EMPLOYEE_KEY_PREFIX = "e:"


def employee_key(employee_id: int) -> str:
    return f"{EMPLOYEE_KEY_PREFIX}{employee_id}"


def visitor_key(client_id: int) -> str:
    return f"v:{client_id}"


@dataclass(frozen=True)
class Audience:
    """Who receives an event: a set of recipient keys (one per employee or widget visitor)."""

    recipients: frozenset[str]

    @classmethod
    def employees(cls, employee_ids: Iterable[int]) -> Audience:
        return cls(frozenset(employee_key(i) for i in employee_ids))

    @classmethod
    def employee(cls, employee_id: int) -> Audience:
        return cls.employees([employee_id])

    @classmethod
    def visitor(cls, client_id: int) -> Audience:
        return cls(frozenset([visitor_key(client_id)]))

    def __or__(self, other: Audience) -> Audience:
        return Audience(self.recipients | other.recipients)

    def __bool__(self) -> bool:
        return bool(self.recipients)
