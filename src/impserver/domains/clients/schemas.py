from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from impserver.core.http import InputModel
from impserver.domains.blocking.schemas import (
    DEFAULT_ADDRESS_PERIOD,
    DEFAULT_CLIENT_PERIOD,
    BlockPeriod,
)

ContactKind = Literal["phone", "email", "telegram", "vk", "whatsapp", "other"]
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,24}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ContactKind
    value: str
    is_hidden: bool
    updated_at: datetime


class ContactWrite(InputModel):
    id: int | None = None
    kind: ContactKind
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]

    @model_validator(mode="after")
    def _check_format(self) -> ContactWrite:
        if self.kind == "phone" and not PHONE.match(self.value):
            raise ValueError(f"“{self.value}” does not look like a phone number")
        if self.kind == "email" and not EMAIL.match(self.value):
            raise ValueError(f"“{self.value}” does not look like an e-mail address")
        return self


class ContactsUpdate(InputModel):
    contacts: list[ContactWrite] = Field(max_length=50)


class ClientUpdate(InputModel):
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]


class EarlierRequest(BaseModel):
    id: int
    status: str
    created_at: datetime
    closed_at: datetime | None
    queue_name: str | None


class UnverifiedIdentity(BaseModel):
    """What the site's page said about the visitor with no valid hash: their own word."""

    id: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""


class ClientRead(BaseModel):
    id: int
    resource_id: int
    channel: str
    display_name: str
    language: str
    is_blocked: bool
    page_url: str
    browser: str
    contacts: list[ContactRead]
    requests: list[EarlierRequest]
    # The site vouched for this person (IMP.setUser with a valid hash); ``verified_id`` is the
    # site's own id of them.
    verified: bool = False
    verified_id: str | None = None
    # What the visitor's page said without proof, if anything.
    unverified: UnverifiedIdentity | None = None
    # The site's facts about the visitor (IMP.setAttributes).
    attributes: dict[str, bool | int | float | str] = Field(default_factory=dict)


class ClientBlock(InputModel):
    """Blocking a client from their request: an optional reason, kept in the block list, and
    how long the block holds for their network address and for the client and their contacts."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    address_period: BlockPeriod = DEFAULT_ADDRESS_PERIOD
    client_period: BlockPeriod = DEFAULT_CLIENT_PERIOD


# IMP.setUser and IMP.setAttributes, as the widget passes them on: checked here, at the edge.
MAX_ATTRIBUTES = 50
ATTRIBUTE_VALUE_LENGTH = 500
# A number JavaScript holds exactly.
JS_SAFE_INTEGER = 2**53 - 1

AttributeKey = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w.\- ]+$")
]
AttributeValue = (
    StrictBool
    | Annotated[StrictInt, Field(ge=-JS_SAFE_INTEGER, le=JS_SAFE_INTEGER)]
    | Annotated[StrictFloat, Field(ge=-JS_SAFE_INTEGER, le=JS_SAFE_INTEGER, allow_inf_nan=False)]
    | Annotated[str, StringConstraints(max_length=ATTRIBUTE_VALUE_LENGTH)]
)


class VisitorIdentity(InputModel):
    """IMP.setUser: the site's id of its logged-in user, what it knows of them, and the hash
    (HMAC-SHA256 of the id with the site's identity secret, hex) that proves it vouches."""

    id: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
        | (Annotated[StrictInt, Field(ge=-JS_SAFE_INTEGER, le=JS_SAFE_INTEGER)])
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not EMAIL.match(value):
            raise ValueError(f"“{value}” does not look like an e-mail address")
        return value or None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and not PHONE.match(value):
            raise ValueError(f"“{value}” does not look like a phone number")
        return value or None

    @property
    def user_id(self) -> str:
        """The id as the site hashed it: a number as JavaScript's String(id) writes it."""
        return str(self.id)


class VisitorAttributes(InputModel):
    """IMP.setAttributes: flat facts; a key given ``null`` is removed."""

    attributes: dict[AttributeKey, AttributeValue | None] = Field(max_length=MAX_ATTRIBUTES)
