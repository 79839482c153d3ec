from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)

from impserver.core.http import InputModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ResourceKind = Literal["website", "telegram", "vk", "whatsapp"]
TopicSeconds = Annotated[int, Field(ge=0, le=86_400)]


class StrictModel(InputModel):
    """A request body of this domain."""


# A site origin is exactly scheme://host[:port]. Anything else (a path, spaces, a ';') is refused
# rather than cleaned up: the origins end up in the widget frame's Content-Security-Policy, where
# a ';' or a space would start another directive or another source.
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV6_HOST = re.compile(r"^\[[0-9a-f:.]+\]$")


def _ascii_host(host: str) -> str | None:
    """The host in its ASCII form (international names as punycode), or None if it is not one."""
    if _IPV6_HOST.match(host):
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        return None
    return ascii_host


def normalise_origin(value: str) -> str:
    """``value`` as ``scheme://host[:port]`` in lower case, or ValueError saying what is wanted."""
    value = value.strip().rstrip("/")
    refusal = ValueError(
        f"“{value}” is not a site origin: write only scheme://host[:port], "
        "like https://example.com or http://localhost:8080"
    )
    scheme, separator, rest = value.partition("://")
    if not separator or scheme.lower() not in ("http", "https") or not rest:
        raise refusal
    host, port = rest, ""
    if ":" in rest and not rest.endswith("]"):
        host, _, port = rest.rpartition(":")
    ascii_host = _ascii_host(host.lower())
    if ascii_host is None:
        raise refusal
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) <= 65535):
        raise refusal
    return f"{scheme.lower()}://{ascii_host}" + (f":{int(port)}" if port else "")


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


# The chat's colour when the website has not chosen one.
DEFAULT_WIDGET_COLOUR = "#3b5bdb"


class WidgetLook(StrictModel):
    """How a website's chat looks: the button's and header's colour (#rrggbb), the side of the
    page it sits on, the button's label, the chat's title, the greeting shown before the first
    message, its language (auto: the page's), and whether replies show the employee's name and
    photo. Empty texts: the chat's own words."""

    colour: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] = DEFAULT_WIDGET_COLOUR
    position: Literal["right", "left"] = "right"
    button_label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = ""
    greeting: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    language: Literal["auto", "ru", "en"] = "auto"
    show_employee: StrictBool = True


def widget_look_of(stored: dict[str, Any]) -> WidgetLook:
    """The look kept with a website, as the chat uses it (what is not kept: as it comes)."""
    return WidgetLook.model_validate(stored or {})


class ResourceRead(BaseModel):
    id: int
    kind: ResourceKind
    name: str
    is_active: bool
    topic_choice_seconds: int
    rating_enabled: bool = False
    rating_question: str = ""
    typing_preview: bool = True
    widget_look: WidgetLook = Field(default_factory=WidgetLook)
    client_voice_calls: bool = False
    client_video_calls: bool = False
    site_origins: list[str]
    public_key: str
    # Messengers: how people find the account there: a Telegram bot's @username, a VK
    # community's short name, a WhatsApp number (credentials are never sent back).
    bot_username: str | None = None
    queues: list[QueueRead]


class ResourceCreate(OriginsMixin, StrictModel):
    kind: Literal["website"] = "website"
    name: Name
    topic_choice_seconds: TopicSeconds = 60


class MessengerResourceCreate(StrictModel):
    """Connecting a messenger's account: its credentials (each messenger's own fields) and
    what every resource has."""

    # Empty: the account's name in the messenger.
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    topic_choice_seconds: TopicSeconds = 60

    def credentials(self) -> dict[str, Any]:
        """What the messenger is asked to accept."""
        return self.model_dump(exclude={"name", "topic_choice_seconds"})


class TelegramResourceCreate(MessengerResourceCreate):
    token: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=10, max_length=100, pattern=r"^\d+:[\w-]+$"
        ),
    ]


RatingQuestion = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class ResourceUpdate(OriginsMixin, StrictModel):
    name: Name | None = None
    topic_choice_seconds: TopicSeconds | None = None
    is_active: bool | None = None
    # Ask clients to rate a request once it is closed, with this question (empty: the
    # standard one in the client's language).
    rating_enabled: bool | None = None
    rating_question: RatingQuestion | None = None
    # Employees see a client's message as it is typed (off: only that the client is typing).
    typing_preview: bool | None = None
    # Websites only: how the chat looks on the site.
    widget_look: WidgetLook | None = None
    # Websites: the widget offers the client to call their employee by voice, by video.
    client_voice_calls: bool | None = None
    client_video_calls: bool | None = None


class IdentitySecretRead(BaseModel):
    """A website's identity secret: the key of the HMAC with which the site's server vouches
    for its logged-in users (IMP.setUser's hash). Administrators only."""

    resource_id: int
    secret: str


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
