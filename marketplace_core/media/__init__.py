"""Untrusted image intake: checks, normalisation and content-addressed storage of photos.

Pure functions and one small storage class; no Flask, no database. HTTP views call
`inspect_and_normalise` and turn `ImageRejected` into a 413/422 answer; jobs do the same
and record the code.
"""
# _opencv comes first: it sets OpenCV's pixel limit before anything imports cv2.
from marketplace_core.media import _opencv  # noqa: F401  isort: skip
from marketplace_core.media.errors import (
    ImageRejected,
    InvalidMediaKey,
    MediaNotFound,
    RejectionCode,
)
from marketplace_core.media.formats import ImageFormat
from marketplace_core.media.intake import NormalisedImage, inspect_and_normalise, to_bgr_array
from marketplace_core.media.limits import DEFAULT_LIMITS, ImageLimits
from marketplace_core.media.storage import MediaStore

__all__ = [
    "DEFAULT_LIMITS",
    "ImageFormat",
    "ImageLimits",
    "ImageRejected",
    "InvalidMediaKey",
    "MediaNotFound",
    "MediaStore",
    "NormalisedImage",
    "RejectionCode",
    "inspect_and_normalise",
    "to_bgr_array",
]
