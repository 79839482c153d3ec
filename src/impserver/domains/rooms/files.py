"""Serving stored files safely: never rendered as a page, only images previewed inline."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from impserver.core.storage import Download
from impserver.domains.rooms.messaging import INLINE_IMAGE_TYPES
from impserver.domains.rooms.models import Attachment
from impserver.services import Services

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def download_of(attachment: Attachment) -> Download:
    inline = attachment.content_type in INLINE_IMAGE_TYPES
    ascii_name = attachment.file_name.encode("ascii", "replace").decode().replace('"', "'")
    disposition = (
        f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(attachment.file_name)}"
    )
    return Download(
        media_type=attachment.content_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": FILE_CSP,
            "Cache-Control": "private, max-age=3600",
        },
    )


async def file_response(
    services: Services, attachment: Attachment, request: Request, *, may_redirect: bool = True
) -> Response:
    """The file, to a reader already allowed to have it: from wherever storage keeps it."""
    return await services.files.respond(
        attachment.storage_key, download_of(attachment), request.headers, may_redirect=may_redirect
    )
