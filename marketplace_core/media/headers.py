"""Everything learnt about an upload before a decoder touches it."""
from __future__ import annotations

from dataclasses import dataclass

from marketplace_core.media import jpeg, png, webp
from marketplace_core.media.formats import ImageFormat
from marketplace_core.media.limits import ImageLimits


@dataclass(frozen=True, slots=True)
class ImageHeader:
    format: ImageFormat
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True, slots=True)
class ImageLayout:
    end: int          # offset one past the image's last byte; anything after is a trailer
    frame_count: int  # more than one means an animation


def read_header(image_format: ImageFormat, data: bytes) -> ImageHeader:
    """Declared dimensions, read from the first frame header only."""
    if image_format is ImageFormat.JPEG:
        width, height = jpeg.read_dimensions(data)
    elif image_format is ImageFormat.PNG:
        width, height = png.read_dimensions(data)
    else:
        width, height = webp.read_dimensions(data)
    return ImageHeader(image_format, width, height)


def read_layout(image_format: ImageFormat, data: bytes, limits: ImageLimits) -> ImageLayout:
    """Walk the whole container: truncation, where the image ends, how many frames."""
    if image_format is ImageFormat.JPEG:
        # JPEG has no animation; extra MPF pictures are trailers, checked separately.
        return ImageLayout(end=jpeg.stream_end(data), frame_count=1)
    if image_format is ImageFormat.PNG:
        layout = png.read_layout(data, limits.max_metadata_chunk_bytes)
    else:
        layout = webp.read_layout(data)
    return ImageLayout(end=layout.end, frame_count=layout.frame_count)
