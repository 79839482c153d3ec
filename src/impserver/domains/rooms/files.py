"""Serving stored files safely: never rendered as a page, only images previewed inline."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import FileResponse

from impserver.core.errors import NotFound
from impserver.domains.rooms.messaging import INLINE_IMAGE_TYPES
from impserver.domains.rooms.models import Attachment
from impserver.services import Services

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def file_response(services: Services, attachment: Attachment) -> FileResponse:
    path = services.files.path_of(attachment.storage_key)
    if not path.is_file():
        raise NotFound("The file is no longer available.", code="file_gone")
    inline = attachment.content_type in INLINE_IMAGE_TYPES
    ascii_name = attachment.file_name.encode("ascii", "replace").decode().replace('"', "'")
    disposition = (
        f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(attachment.file_name)}"
    )
    return FileResponse(
        path,
        media_type=attachment.content_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": FILE_CSP,
            "Cache-Control": "private, max-age=3600",
        },
    )
