"""Small copies of the pictures sent in conversations, made on the server with Pillow.

The history shows a thumbnail of a few kilobytes instead of a photo of several megabytes; the
picture itself opens in the viewer. Pictures are decoded only up to a pixel count: a small file
that unpacks into billions of pixels (a decompression bomb) is refused before it is decoded.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from impserver.core.errors import InvalidInput

# Fits a history column and a phone's width at twice the pixel density.
THUMBNAIL_BOX = (480, 480)
THUMBNAIL_TYPE = "image/webp"
# 50 megapixels: more than any phone camera takes, far less than a bomb unpacks to (a 50 MP
# RGBA picture is already 200 MB in memory while it is being scaled down).
MAX_PIXELS = 50_000_000
# Pillow's own guard, for any decode this module does not check first: it refuses pictures
# over twice this size and warns over it (the warning is made an error below).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Thumbnail:
    data: bytes  # THUMBNAIL_TYPE
    # The picture's own size, so the history can reserve its place before it loads.
    width: int
    height: int


PICTURE_TOO_LARGE = "image_too_large"
PICTURE_UNREADABLE = "image_unreadable"


def picture_too_large() -> InvalidInput:
    return InvalidInput(
        f"The picture is too large: at most {MAX_PIXELS // 1_000_000} megapixels.",
        code=PICTURE_TOO_LARGE,
        params={"max_megapixels": MAX_PIXELS // 1_000_000},
    )


def picture_unreadable() -> InvalidInput:
    # Not shown to people: an upload that is no readable picture is kept as an ordinary file.
    return InvalidInput("This picture cannot be read.", code=PICTURE_UNREADABLE)


@contextmanager
def reading_picture(
    source: BinaryIO, formats: tuple[str, ...] | None = None
) -> Iterator[Image.Image]:
    """The picture in ``source``, opened for decoding inside the block once its header shows it
    is within ``MAX_PIXELS``. Whatever goes wrong reading it, here or while the block decodes
    it, is refused as ``image_too_large`` or ``image_unreadable``. ``formats``: the only file
    formats to recognise (Pillow's names: "PNG", "JPEG", …); any other is unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=formats) as picture:
                # The header alone gives the size: nothing is decoded yet.
                width, height = picture.size
                if width * height > MAX_PIXELS:
                    raise picture_too_large()
                yield picture
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise picture_too_large() from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        # What Pillow raises for a truncated or malformed file, whichever decoder reads it.
        raise picture_unreadable() from exc


def upright(picture: Image.Image) -> Image.Image:
    """The picture turned as its camera meant it, in RGB (RGBA where it is see-through)."""
    turned = ImageOps.exif_transpose(picture)
    if turned.mode not in ("RGB", "RGBA"):
        turned = turned.convert("RGBA" if _has_alpha(turned) else "RGB")
    return turned


def make_thumbnail(source: BinaryIO) -> Thumbnail:
    """A WebP copy of the picture in ``source`` fitting ``THUMBNAIL_BOX``, turned upright as its
    camera meant it. CPU-bound: run it in a worker thread."""
    with reading_picture(source) as picture:
        width, height = picture.size
        # A JPEG can be decoded at a fraction of its size straight away.
        picture.draft("RGB", THUMBNAIL_BOX)
        small = upright(picture)
        small.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "WEBP", quality=80, method=4)
        shown_width, shown_height = (
            (height, width) if _turned_sideways(picture) else (width, height)
        )
    return Thumbnail(out.getvalue(), shown_width, shown_height)


def _has_alpha(picture: Image.Image) -> bool:
    return picture.mode in ("LA", "PA") or "transparency" in picture.info


def _turned_sideways(picture: Image.Image) -> bool:
    # EXIF orientations 5 to 8 are the quarter turns.
    return picture.getexif().get(0x0112, 1) in (5, 6, 7, 8)
