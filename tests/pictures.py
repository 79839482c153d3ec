"""Real pictures for tests, drawn with Pillow."""

from __future__ import annotations

import io
import os

from PIL import Image


def picture(
    width: int = 64, height: int = 48, kind: str = "PNG", color: str = "teal", noise: bool = False
) -> bytes:
    """A picture file; with ``noise`` its pixels are random, so it does not compress."""
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()
