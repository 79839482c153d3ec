"""Employees' photos: a small square made on the server from the picture they upload, shown
beside their replies to clients and colleagues.

Only the square is kept, under a new random key for every photo. Its address names the key,
so it is public (the widget's visitors have no session) and cached for good: a new photo gets
a new address, and the old one stops answering.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from PIL import Image, ImageOps

from impserver.core.errors import InvalidInput
from impserver.domains.rooms.thumbnails import PICTURE_UNREADABLE, reading_picture, upright

# Twice the largest size it is shown at (the widget's 28 px, a profile's 80 px).
AVATAR_SIDE = 160
AVATAR_TYPE = "image/webp"
# What a browser shows everywhere; any other picture format is refused.
AVATAR_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
AVATAR_NOT_IMAGE = "avatar_not_image"


def avatar_not_image() -> InvalidInput:
    return InvalidInput(
        "file: the photo must be a PNG, JPEG, WebP or GIF picture.",
        code=AVATAR_NOT_IMAGE,
        params={"field": "file"},
    )


def make_avatar(source: BinaryIO) -> bytes:
    """The middle square of the picture in ``source``, turned upright and scaled to
    ``AVATAR_SIDE``, as WebP (a GIF's first frame). CPU-bound: run it in a worker thread."""
    try:
        with reading_picture(source, AVATAR_FORMATS) as picture:
            picture.draft("RGB", (AVATAR_SIDE, AVATAR_SIDE))
            square = ImageOps.fit(
                upright(picture), (AVATAR_SIDE, AVATAR_SIDE), Image.Resampling.LANCZOS
            )
            out = io.BytesIO()
            square.save(out, "WEBP", quality=85, method=4)
    except InvalidInput as refused:
        if refused.code == PICTURE_UNREADABLE:
            raise avatar_not_image() from refused
        raise
    return out.getvalue()
