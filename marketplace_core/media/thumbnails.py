"""Small copies of stored photos for the console's queues and workspaces.

A thumbnail is made from the stored normalised JPEG (already decoded and checked once at
intake), shrunk with area averaging so that its long side is one of THUMBNAIL_SIZES, and
never enlarged: a photo smaller than the size is re-encoded at its own size.
"""
from __future__ import annotations

import numpy as np

from marketplace_core.media._opencv import cv2

THUMBNAIL_SIZES = (320, 640)
JPEG_QUALITY = 82


class UnreadablePhoto(ValueError):
    """The stored file is not a JPEG OpenCV can decode."""


def shrink_jpeg(data: bytes, long_side: int) -> bytes:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadablePhoto("The stored photo could not be decoded.")
    height, width = image.shape[:2]
    scale = min(1.0, long_side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise UnreadablePhoto("The thumbnail could not be encoded.")
    return encoded.tobytes()
