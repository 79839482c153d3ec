from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from impserver.core.http import InputModel

# A supervisor sees the reports, the archive and the live view of the resources whose queues
# they serve; administration stays the administrators'.
Role = Literal["admin", "supervisor", "employee"]
Language = Literal["ru", "en"]
Theme = Literal["light", "dark"]

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]*$")


def _check_login(value: str) -> str:
    if not LOGIN_PATTERN.match(value):
        raise ValueError(
            "a login may contain only Latin letters, digits and . _ @ -, starting with a letter "
            "or digit"
        )
    return value


Login = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=2, max_length=64),
    AfterValidator(_check_login),
]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class StrictModel(InputModel):
    """A request body of this domain."""


class LoginRequest(StrictModel):
    login: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=64)]
    password: Annotated[str, StringConstraints(max_length=256)]


class MeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    login: str
    name: str
    role: Role
    language: Language
    theme: Theme
    dnd_until: datetime | None
    # The address of the employee's photo; None when they have none.
    avatar_url: str | None = None


class MeUpdate(StrictModel):
    name: PersonName | None = None
    language: Language | None = None
    theme: Theme | None = None
    # Do-not-disturb end time; null turns notifications back on at once.
    dnd_until: datetime | None = Field(default=None)


class SummaryRead(BaseModel):
    queue_waiting: int
    requests_unread: int
    rooms_unread: int


class EmployeeCreate(StrictModel):
    login: Login
    name: PersonName
    password: Password
    role: Role = "employee"
    language: Language = "ru"


class EmployeeUpdate(StrictModel):
    name: PersonName | None = None
    role: Role | None = None
    is_active: bool | None = None
    language: Language | None = None


class PasswordReset(StrictModel):
    password: Password


class QueueAccessUpdate(StrictModel):
    queue_ids: list[int] = Field(max_length=1000)


class EmployeeRead(BaseModel):
    id: int
    login: str
    name: str
    role: Role
    is_active: bool
    language: Language
    queue_ids: list[int]
    group_ids: list[int]


class EmployeeBrief(BaseModel):
    """What any employee may see of a colleague (for pickers and member lists)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    login: str
    name: str
