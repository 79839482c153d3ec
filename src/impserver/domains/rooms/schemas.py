from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class AttachmentRead(BaseModel):
    id: int
    file_name: str
    content_type: str
    size: int
    is_image: bool
    # Relative download address; access is checked on every download.
    url: str


class MessageAuthor(BaseModel):
    kind: Literal["employee", "client", "system"]
    id: int | None
    name: str


class MessageRead(BaseModel):
    id: int
    room_id: int
    kind: str
    body: str
    author: MessageAuthor
    attachments: list[AttachmentRead]
    client_message_id: str | None
    meta: dict[str, Any]
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
