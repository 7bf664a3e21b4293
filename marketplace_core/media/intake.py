"""The intake of untrusted photos: check everything that can be checked without decoding,
then decode and re-encode into the single form the marketplace stores.

Checks run cheapest and most telling first, so each file gets one stable code:

  1. empty_file, file_too_large                      (length only)
  2. unsupported_format, content_type_mismatch      (magic bytes, declared type)
  3. truncated_or_corrupt                            (header unreadable)
  4. dimensions_too_large, too_many_pixels,
     decompression_bomb, too_small                   (declared dimensions vs file size)
  5. truncated_or_corrupt, decompression_bomb,
     suspicious_trailing_data, animated_not_supported (walk of the whole container)
  6. truncated_or_corrupt, decompression_bomb        (the decoder itself)

Nothing is decoded before step 6, so a forged header costs a few microseconds.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from marketplace_core.media._opencv import cv2
from marketplace_core.media.errors import ImageRejected, RejectionCode
from marketplace_core.media.formats import check_declared_content_type, sniff_format
from marketplace_core.media.headers import ImageHeader, read_header, read_layout
from marketplace_core.media.limits import DEFAULT_LIMITS, ImageLimits
from marketplace_core.media.normalise import decode_and_normalise
from marketplace_core.media.trailers import check_trailing_data

OUTPUT_FORMAT = "JPEG"
_RGB_BYTES_PER_PIXEL = 3


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    data: bytes
    width: int
    height: int
    format: str
    sha256: str
    source_format: str
    source_width: int
    source_height: int

    def __repr__(self) -> str:  # keep megabytes of JPEG out of logs and tracebacks
        return (f"NormalisedImage({self.width}x{self.height} {self.format}, "
                f"{len(self.data)} bytes, sha256={self.sha256[:12]}..., "
                f"source={self.source_format} {self.source_width}x{self.source_height})")


def inspect_and_normalise(data: bytes, *, declared_content_type: str | None = None,
                          limits: ImageLimits = DEFAULT_LIMITS) -> NormalisedImage:
    """Accept an uploaded photo and return its normalised JPEG, or raise ImageRejected.

    `declared_content_type` is the client's Content-Type; it never decides the format
    (see formats.check_declared_content_type for when it causes a refusal).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        # bytes(n) of an int would allocate n zero bytes; refuse anything but a buffer.
        raise TypeError(f"image data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    _check_length(data, limits)
    image_format = sniff_format(data)
    check_declared_content_type(declared_content_type, image_format)
    header = read_header(image_format, data)
    _check_declared_size(header, len(data), limits)
    layout = read_layout(image_format, data, limits)
    check_trailing_data(image_format, data, layout.end)
    if layout.frame_count > 1:
        raise ImageRejected(RejectionCode.ANIMATED_NOT_SUPPORTED,
                            "Animated images are not accepted; upload a still photo.")
    jpeg, width, height = decode_and_normalise(data, header, limits)
    return NormalisedImage(
        data=jpeg, width=width, height=height, format=OUTPUT_FORMAT,
        sha256=hashlib.sha256(jpeg).hexdigest(), source_format=image_format.value,
        source_width=header.width, source_height=header.height)


def _check_length(data: bytes, limits: ImageLimits) -> None:
    if not data:
        raise ImageRejected(RejectionCode.EMPTY_FILE, "The file is empty.")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            RejectionCode.FILE_TOO_LARGE,
            f"The file is {len(data)} bytes; the limit is {limits.max_bytes} bytes.")


def _check_declared_size(header: ImageHeader, file_size: int, limits: ImageLimits) -> None:
    size = f"{header.width}x{header.height}"
    if max(header.width, header.height) > limits.max_side:
        raise ImageRejected(
            RejectionCode.DIMENSIONS_TOO_LARGE,
            f"The image declares {size} pixels; no side may exceed {limits.max_side}.")
    if header.pixels > limits.max_pixels:
        raise ImageRejected(
            RejectionCode.TOO_MANY_PIXELS,
            f"The image declares {size} pixels; the limit is {limits.max_pixels} in all.")
    if _expands_suspiciously(header, file_size, limits):
        raise ImageRejected(
            RejectionCode.DECOMPRESSION_BOMB,
            f"A {file_size}-byte file declaring {size} pixels is a decompression bomb.")
    if min(header.width, header.height) < limits.min_short_side:
        raise ImageRejected(
            RejectionCode.TOO_SMALL,
            f"The image is {size} pixels; the short side must be at least "
            f"{limits.min_short_side}.")


def _expands_suspiciously(header: ImageHeader, file_size: int, limits: ImageLimits) -> bool:
    if header.pixels < limits.expansion_check_min_pixels:
        return False
    return header.pixels * _RGB_BYTES_PER_PIXEL > file_size * limits.max_expansion_ratio


def to_bgr_array(image: NormalisedImage) -> np.ndarray:
    """The normalised photo as an OpenCV BGR array (height x width x 3, uint8), for vision
    workers. Only normalised output is decoded here, never an upload."""
    pixels = cv2.imdecode(np.frombuffer(image.data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError("normalised image data does not decode; it was not made by intake")
    return pixels
