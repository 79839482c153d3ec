"""What integrations (webhooks) are told of requests and their messages, as JSON values.

Ids rather than names: an integration reads whatever else it needs through the public API.
"""

from __future__ import annotations

from typing import Any

from impserver.domains.requests.models import ClientRequest
from impserver.domains.rooms.schemas import MessageRead


def request_data(request: ClientRequest, **more: Any) -> dict[str, Any]:
    return {
        "request": {
            "id": request.id,
            "resource_id": request.resource_id,
            "client_id": request.client_id,
            "status": request.status,
            "queue_id": request.queue_id,
            "assignee_id": request.assignee_id,
            "created_at": request.created_at.isoformat(),
            "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        },
        **more,
    }


def message_data(request_id: int, client_id: int, message: MessageRead) -> dict[str, Any]:
    """A message the client and the employee both see (never a note or a system line)."""
    return {
        "request_id": request_id,
        "client_id": client_id,
        "message": {
            "id": message.id,
            # The photo's address is the widget's; integrations go by the employee's id.
            "author": message.author.model_dump(exclude={"avatar_url"}),
            "body": message.body,
            "attachments": [
                {
                    "id": a.id,
                    "file_name": a.file_name,
                    "content_type": a.content_type,
                    "size": a.size,
                    "url": a.url,
                }
                for a in message.attachments
            ],
            "created_at": message.created_at.isoformat(),
            # The integration that sent it for the employee, if one did.
            "via": (message.meta or {}).get("via"),
        },
    }
