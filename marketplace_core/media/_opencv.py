"""OpenCV, imported only after its decoder pixel limit is in the environment.

OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, when the library loads (the default allows
2^30 pixels), so the variable must be set before the first `import cv2` anywhere in the
process. Importing `marketplace_core.media` does it; code that may import cv2 earlier
(worker start-up) should import this package first. Our own header check enforces the
limit whatever OpenCV does, so a late import only loses the second line of defence.
"""
from __future__ import annotations

from marketplace_core.media.limits import DEFAULT_LIMITS, PIXEL_LIMIT_VARIABLE, cap_opencv_pixels

cap_opencv_pixels(DEFAULT_LIMITS.max_pixels)

import cv2  # noqa: E402  (must follow the environment change above)

__all__ = ["cv2", "PIXEL_LIMIT_VARIABLE"]
