from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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


class ClientBlock(InputModel):
    """Blocking a client from their request: an optional reason, kept in the block list, and
    how long the block holds for their network address and for the client and their contacts."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    address_period: BlockPeriod = DEFAULT_ADDRESS_PERIOD
    client_period: BlockPeriod = DEFAULT_CLIENT_PERIOD
