"""OpenCV, imported only after its decoder pixel limit is in the environment.

OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, when the library loads (the default allows
2^30 pixels), so the variable must be set before the first `import cv2` anywhere in the
process. Importing `marketplace_core.media` does it; code that may import cv2 earlier
(worker start-up) should import this package first. Our own header check enforces the
limit whatever OpenCV does, so a late import only loses the second line of defence.
"""
from __future__ import annotations

import logging
import os
import sys

from marketplace_core.media.limits import DEFAULT_LIMITS

PIXEL_LIMIT_VARIABLE = "OPENCV_IO_MAX_IMAGE_PIXELS"
logger = logging.getLogger(__name__)


def _cap_opencv_pixels(limit: int) -> None:
    current = os.environ.get(PIXEL_LIMIT_VARIABLE, "")
    if current.isdigit() and 0 < int(current) <= limit:
        return  # an operator chose a stricter limit; keep it
    if "cv2" in sys.modules:
        logger.warning("cv2 was imported before marketplace_core.media; OpenCV keeps its "
                       "default pixel limit in this process")
    os.environ[PIXEL_LIMIT_VARIABLE] = str(limit)


_cap_opencv_pixels(DEFAULT_LIMITS.max_pixels)

import cv2  # noqa: E402  (must follow the environment change above)

__all__ = ["cv2", "PIXEL_LIMIT_VARIABLE"]
