"""Employees' messages sent over the workspace's socket (``room.send``, ``request.send``).

A send over the socket is the HTTP send by another road: its command carries the fields of
``EmployeeMessageCreate`` under that schema's own rules (the command's schema is built from it),
calls the same action, and answers only its sender, with the message the HTTP send would have
returned:

    → {"type": "room.send", "ref": "r1", "room_id": 7, "body": "…", "client_message_id": "…",
       "attachment_ids": [], "reply_to_id": null, "mention_ids": []}
    ← {"type": "ack", "ref": "r1", "created": true, "message": {…MessageRead…}}
    ← {"type": "error", "ref": "r1", "command": "room.send", "code": "room_not_found", …}

The ``client_message_id`` is required: a sender that hears nothing back sends again (over the
socket or over HTTP) and gets the same message, ``created`` false.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import StrictStr, StringConstraints

from impserver.core.http import MAX_JSON_BODY_BYTES
from impserver.domains.rooms.schemas import ClientMessageId, EmployeeMessageCreate, MessageRead
from impserver.realtime.gateway import Connection, SocketCommand

# As long as the HTTP send's body may be: whatever that accepts, this accepts.
SEND_COMMAND_CHARS = MAX_JSON_BODY_BYTES

CommandRef = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]


class MessageSendCommand(SocketCommand, EmployeeMessageCreate):
    """Base of the send commands: the HTTP send's fields and rules, a required client message
    id, and the sender's ``ref`` for the answer. Each command adds its ``type`` and target."""

    ref: CommandRef
    client_message_id: ClientMessageId


def acknowledge(connection: Connection, ref: str, message: MessageRead, created: bool) -> None:
    """Answer the sender of ``ref`` (and nobody else) with the message it sent."""
    connection.offer(
        None,
        f'{{"type":"ack","ref":{json.dumps(ref)},"created":{json.dumps(created)},'
        f'"message":{message.model_dump_json()}}}',
    )
