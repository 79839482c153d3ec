from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from impserver.core.http import InputModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ResourceKind = Literal["website", "telegram"]
TopicSeconds = Annotated[int, Field(ge=0, le=86_400)]


class StrictModel(InputModel):
    """A request body of this domain."""


def normalise_origin(value: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValueError(f"“{value}” is not a site origin like https://example.com")
    return f"{parts.scheme}://{parts.netloc.lower()}"


class OriginsMixin(BaseModel):
    site_origins: list[str] | None = Field(default=None, max_length=50)

    @field_validator("site_origins")
    @classmethod
    def _origins(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        return sorted({normalise_origin(v) for v in values if v.strip()})


class QueueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: int
    name: str
    offered_as_topic: bool
    is_default: bool
    position: int


class QueueCreate(StrictModel):
    name: Name
    offered_as_topic: bool = True
    is_default: bool = False


class QueueUpdate(StrictModel):
    name: Name | None = None
    offered_as_topic: bool | None = None
    is_default: bool | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class ResourceRead(BaseModel):
    id: int
    kind: ResourceKind
    name: str
    is_active: bool
    topic_choice_seconds: int
    site_origins: list[str]
    public_key: str
    # Telegram: the bot's @username (the token itself is never sent back).
    bot_username: str | None = None
    queues: list[QueueRead]


class ResourceCreate(OriginsMixin, StrictModel):
    kind: Literal["website"] = "website"
    name: Name
    topic_choice_seconds: TopicSeconds = 60


class TelegramResourceCreate(StrictModel):
    token: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=10, max_length=100, pattern=r"^\d+:[\w-]+$"
        ),
    ]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    topic_choice_seconds: TopicSeconds = 60


class ResourceUpdate(OriginsMixin, StrictModel):
    name: Name | None = None
    topic_choice_seconds: TopicSeconds | None = None
    is_active: bool | None = None


class GroupRead(BaseModel):
    id: int
    name: str
    resource_id: int
    member_ids: list[int]


class GroupCreate(StrictModel):
    name: Name
    resource_id: int


class GroupUpdate(StrictModel):
    name: Name


class GroupMembersUpdate(StrictModel):
    employee_ids: list[int] = Field(max_length=5000)


class ServedQueueRead(QueueRead):
    resource_name: str
