"""Serving stored files safely: never rendered as a page, only images previewed inline."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from impserver.core.errors import NotFound
from impserver.core.storage import Download
from impserver.domains.rooms.messaging import INLINE_IMAGE_TYPES
from impserver.domains.rooms.models import Attachment
from impserver.domains.rooms.thumbnails import THUMBNAIL_TYPE
from impserver.services import Services

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": FILE_CSP,
    "Cache-Control": "private, max-age=3600",
}


def download_of(attachment: Attachment) -> Download:
    inline = attachment.content_type in INLINE_IMAGE_TYPES
    ascii_name = attachment.file_name.encode("ascii", "replace").decode().replace('"', "'")
    disposition = (
        f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(attachment.file_name)}"
    )
    return Download(
        media_type=attachment.content_type if inline else "application/octet-stream",
        headers={"Content-Disposition": disposition, **_SAFE_HEADERS},
    )


async def file_response(
    services: Services,
    attachment: Attachment,
    request: Request,
    *,
    may_redirect: bool = True,
    thumbnail: bool = False,
) -> Response:
    """The file (or its thumbnail), to a reader already allowed to have it: from wherever
    storage keeps it."""
    if not thumbnail:
        return await services.files.respond(
            attachment.storage_key,
            download_of(attachment),
            request.headers,
            may_redirect=may_redirect,
        )
    if attachment.thumbnail_key is None:
        raise NotFound("This file has no thumbnail.", code="file_not_found")
    return await services.files.respond(
        attachment.thumbnail_key,
        Download(
            media_type=THUMBNAIL_TYPE, headers={**_SAFE_HEADERS, "Content-Disposition": "inline"}
        ),
        request.headers,
        may_redirect=may_redirect,
    )
