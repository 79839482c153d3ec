from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from impserver.core.errors import Forbidden
from impserver.core.http import LARGEST_ID, InputModel
from impserver.core.integration_events import CATALOGUE
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


# -- webhooks ---------------------------------------------------------------------------------

WebhookEvent = Literal[
    "request.created",
    "request.assigned",
    "request.transferred",
    "request.closed",
    "message.created",
    "client.blocked",
    "rating.received",
]
MAX_URL = 2000
MAX_DESCRIPTION = 200


def _webhook_url(value: str) -> str:
    """Only http(s) with a host: where the address itself may point is checked when saving and
    again when delivering (``addresses``)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Enter an http:// or https:// address with a host name.")
    if parts.fragment:
        raise ValueError("A webhook address cannot have a #fragment.")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ValueError("The port must be a number from 1 to 65535.") from None
    return value


WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL),
    AfterValidator(_webhook_url),
]
WebhookEvents = Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(CATALOGUE))]


class WebhookCreate(InputModel):
    """An address to tell of the chosen events, optionally of one resource's only."""

    url: WebhookUrl
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    events: WebhookEvents
    resource_id: int | None = Field(default=None, ge=1, le=LARGEST_ID)


class WebhookUpdate(InputModel):
    """What changes; fields left out stay. ``is_enabled`` turns the hook on again after it was
    switched off (by an administrator or after failures), and the count of failures starts
    afresh."""

    url: WebhookUrl | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    events: WebhookEvents | None = None
    is_enabled: bool | None = None


class WebhookRead(BaseModel):
    id: int
    url: str
    description: str
    events: list[WebhookEvent]
    resource: NamedRef | None
    # Signs every delivery (see the README's "Webhooks"); administrators only ever see it.
    secret: str
    is_enabled: bool
    # Why it is off: "admin" (switched off) or "failures" (its deliveries kept failing).
    disabled_reason: Literal["", "admin", "failures"]
    disabled_at: datetime | None
    failures_in_a_row: int
    created_at: datetime
    # Deliveries still to be made (waiting for their first attempt or a retry).
    pending: int


class WebhookDeliveryRead(BaseModel):
    id: int
    event_id: str
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    due_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    # The receiver's HTTP status at the last attempt; None when it gave no answer.
    response_status: int | None
    # Why the last attempt failed ("" if it did not): "answered" (not 2xx), "redirected" (not
    # followed), "timeout", "address_forbidden", "unresolvable", "connection"; with what the
    # receiver or the network said (its answer's start, the redirect's target…), and the two
    # as an English sentence.
    error_kind: Literal[
        "",
        "answered",
        "redirected",
        "timeout",
        "address_forbidden",
        "unresolvable",
        "connection",
    ]
    error_detail: str
    last_error: str
    # The JSON body as sent.
    body: str


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
