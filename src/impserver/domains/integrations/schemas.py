from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from impserver.core.errors import Forbidden
from impserver.core.http import LARGEST_ID, InputModel
from impserver.domains.clients.schemas import EMAIL, PHONE, ContactKind
from impserver.domains.requests.schemas import NamedRef

MAX_NAME = 80

Scope = Literal["read", "write"]


class ApiTokenCreate(InputModel):
    """A new access token: what it is for (a name people recognise), what it may do, and
    optionally the one resource (site or bot) it is held to."""

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)
    ]
    scopes: list[Scope] = Field(min_length=1, max_length=2)
    resource_id: int | None = Field(default=None, ge=1, le=LARGEST_ID)


class ApiTokenRead(BaseModel):
    id: int
    name: str
    # The secret's first characters, to tell tokens apart; the secret itself is never shown again.
    prefix: str
    scopes: list[Scope]
    resource: NamedRef | None
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    """The token as made: ``secret`` is shown this once and is kept only as a digest."""

    secret: str


# -- the public API ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Integration:
    """The caller: a token, its rights, and the resource it is held to (None: every one)."""

    token_id: int
    name: str
    can_read: bool
    can_write: bool
    resource_id: int | None

    def may_see(self, resource_id: int) -> bool:
        return self.resource_id is None or self.resource_id == resource_id

    def check_resource(self, resource_id: int) -> None:
        if not self.may_see(resource_id):
            raise Forbidden(
                "This API token is held to another resource.", code="api_token_other_resource"
            )


class PublicReply(InputModel):
    """A reply to the client, sent for the employee responsible for the request."""

    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    # Makes a retry safe: a second send with the same id returns the first message.
    client_message_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class PublicTransfer(InputModel):
    """Where the request goes: a queue of its own resource, where anyone serving it takes it."""

    queue_id: int = Field(ge=1, le=LARGEST_ID)


ContactValue = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)
]


def _check_contact(kind: str | None, value: str) -> str:
    if kind == "phone" and not PHONE.match(value):
        raise ValueError(f"“{value}” does not look like a phone number")
    if kind == "email" and not EMAIL.match(value):
        raise ValueError(f"“{value}” does not look like an e-mail address")
    return value


class PublicContactCreate(InputModel):
    kind: ContactKind
    value: ContactValue

    @field_validator("value")
    @classmethod
    def _check_format(cls, value: str, info: ValidationInfo) -> str:
        # A refusal of the value names the value (errors[].loc ends in "value").
        return _check_contact(info.data.get("kind"), value)


class PublicContactUpdate(InputModel):
    """What changes; what is left out stays. A kind and a value are given together."""

    kind: ContactKind | None = None
    value: ContactValue | None = None
    is_hidden: bool | None = None

    @field_validator("value")
    @classmethod
    def _check_format(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("kind") is None:
            raise ValueError("give the contact's kind with its value")
        return _check_contact(info.data.get("kind"), value)

    @model_validator(mode="after")
    def _kind_with_value(self) -> PublicContactUpdate:
        if self.kind is not None and self.value is None:
            raise ValueError("give the contact's value with its kind")
        return self


class PublicClient(BaseModel):
    """A client as the list of clients gives them (read one for contacts and requests)."""

    id: int
    resource: NamedRef
    channel: str
    display_name: str
    language: str
    is_blocked: bool
    created_at: datetime
    last_seen_at: datetime
