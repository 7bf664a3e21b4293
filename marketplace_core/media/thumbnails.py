"""Small copies of stored photos for the console's queues and workspaces.

A thumbnail is made from the stored normalised JPEG (already decoded and checked once at
intake), shrunk with area averaging so that its long side is one of THUMBNAIL_SIZES; a
photo no larger than the size is not re-encoded (that would only cost quality): the stored
photo serves as it is.
"""
from __future__ import annotations

import numpy as np

from marketplace_core.media._opencv import cv2

THUMBNAIL_SIZES = (320, 640)
JPEG_QUALITY = 82


class UnreadablePhoto(ValueError):
    """The stored file is not a JPEG OpenCV can decode."""


def shrink_jpeg(data: bytes, long_side: int) -> bytes | None:
    """The JPEG at most `long_side` pixels on its long side; None when it already is."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadablePhoto("The stored photo could not be decoded.")
    height, width = image.shape[:2]
    if max(height, width) <= long_side:
        return None
    scale = long_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise UnreadablePhoto("The thumbnail could not be encoded.")
    return encoded.tobytes()
