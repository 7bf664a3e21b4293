"""Limits applied to every untrusted image, before and after decoding.

The defaults are product decisions (ours); callers that need other values pass their own
`ImageLimits`, built from configuration.
"""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

MIB = 1024 * 1024
PIXEL_LIMIT_VARIABLE = "OPENCV_IO_MAX_IMAGE_PIXELS"
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImageLimits:
    # A 50 MP phone photo at high quality is 15-20 MiB; nothing we accept needs more.
    max_bytes: int = 20 * MIB
    # Either side above this is a forged or absurd header; no phone sensor is this wide.
    max_side: int = 12_000
    # Bounds decoder memory: about max_pixels x 4 bytes for the worst (RGBA PNG) case.
    max_pixels: int = 50_000_000
    # A listing photo narrower than this is useless to buyers and to the vision models.
    min_short_side: int = 200
    # Decoded RGB bytes per byte of upload above which a large image counts as a bomb.
    # Real photos expand 5-50x; a deflate stream of zeros expands about 1000x per channel.
    max_expansion_ratio: int = 300
    # Flat small images legitimately compress very well, so the ratio is only checked
    # for images big enough to make the allocation itself the attack.
    expansion_check_min_pixels: int = 16_000_000
    # Bytes of decompressed metadata (PNG zTXt/iTXt/iCCP) one chunk may hold; it is
    # Pillow's own per-chunk limit, so a chunk between ours and Pillow's cannot exist.
    max_metadata_chunk_bytes: int = MIB
    output_max_long_side: int = 2048
    jpeg_quality: int = 88

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_side", "max_pixels", "min_short_side",
                     "max_expansion_ratio", "expansion_check_min_pixels",
                     "max_metadata_chunk_bytes", "output_max_long_side"):
            if getattr(self, name) < 1:
                raise ValueError(f"ImageLimits.{name} must be a positive integer")
        if not 1 <= self.jpeg_quality <= 95:
            # Pillow documents values above 95 as wasteful: bigger files, no visible gain.
            raise ValueError("ImageLimits.jpeg_quality must be between 1 and 95")
        if self.min_short_side > self.max_side:
            raise ValueError("ImageLimits.min_short_side cannot exceed max_side")


DEFAULT_LIMITS = ImageLimits()


def cap_opencv_pixels(limit: int) -> None:
    """Put OpenCV's decoder pixel limit in the environment, where it reads it when it loads."""
    current = os.environ.get(PIXEL_LIMIT_VARIABLE, "")
    if current.isdigit() and 0 < int(current) <= limit:
        return  # an operator chose a stricter limit; keep it
    if "cv2" in sys.modules:
        logger.warning("cv2 was imported before marketplace_core.media; OpenCV keeps its "
                       "default pixel limit in this process")
    os.environ[PIXEL_LIMIT_VARIABLE] = str(limit)
