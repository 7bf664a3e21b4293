"""WebP structure: the RIFF container and the first image chunk's header, per Google's
"WebP Container Specification" and the VP8/VP8L bitstream headers. No pixels decoded."""
from __future__ import annotations

from dataclasses import dataclass

from marketplace_core.media.errors import corrupt

_RIFF_HEADER = 12  # "RIFF", size, "WEBP"
_CHUNK_HEADER = 8  # FourCC, size
_VP8_START_CODE = b"\x9d\x01\x2a"
_VP8L_SIGNATURE = 0x2F
_IMAGE_CHUNKS = (b"VP8 ", b"VP8L", b"ANMF")


@dataclass(frozen=True, slots=True)
class WebpLayout:
    end: int          # one past the RIFF container
    frame_count: int  # ANMF frames; 1 for a still image


def read_dimensions(data: bytes) -> tuple[int, int]:
    """Canvas size from the first chunk (VP8X) or the bitstream header (VP8, VP8L)."""
    fourcc = data[_RIFF_HEADER:_RIFF_HEADER + 4]
    payload = data[_RIFF_HEADER + _CHUNK_HEADER:_RIFF_HEADER + _CHUNK_HEADER + 10]
    if fourcc == b"VP8 ":
        width, height = _lossy_dimensions(payload)
    elif fourcc == b"VP8L":
        width, height = _lossless_dimensions(payload)
    elif fourcc == b"VP8X":
        width, height = _extended_dimensions(payload)
    elif len(fourcc) < 4:
        raise corrupt("WebP ends before its first chunk")
    else:
        raise corrupt("WebP does not start with an image or VP8X chunk")
    if width == 0 or height == 0:
        raise corrupt("WebP declares a zero dimension")
    return width, height


def _lossy_dimensions(payload: bytes) -> tuple[int, int]:
    if len(payload) < 10:
        raise corrupt("WebP ends inside its VP8 header")
    if payload[0] & 1 or payload[3:6] != _VP8_START_CODE:
        raise corrupt("WebP VP8 data does not start with a key frame")
    # 14 bits of size; the top two bits are an upscaling hint that decoders ignore.
    width = int.from_bytes(payload[6:8], "little") & 0x3FFF
    height = int.from_bytes(payload[8:10], "little") & 0x3FFF
    return width, height


def _lossless_dimensions(payload: bytes) -> tuple[int, int]:
    if len(payload) < 5:
        raise corrupt("WebP ends inside its VP8L header")
    bits = int.from_bytes(payload[1:5], "little")
    if payload[0] != _VP8L_SIGNATURE or bits >> 29 != 0:
        raise corrupt("WebP VP8L header is invalid")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def _extended_dimensions(payload: bytes) -> tuple[int, int]:
    if len(payload) < 10:
        raise corrupt("WebP ends inside its VP8X header")
    width = int.from_bytes(payload[4:7], "little") + 1
    height = int.from_bytes(payload[7:10], "little") + 1
    return width, height


def read_layout(data: bytes) -> WebpLayout:
    end = _RIFF_HEADER - 4 + int.from_bytes(data[4:8], "little")
    if end > len(data):
        raise corrupt("WebP is shorter than its RIFF header says")
    pos = _RIFF_HEADER
    frames = 0
    saw_image_data = False
    while pos < end:
        if pos + _CHUNK_HEADER > end:
            raise corrupt("WebP RIFF size cuts a chunk header in two")
        fourcc = data[pos:pos + 4]
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        saw_image_data = saw_image_data or fourcc in _IMAGE_CHUNKS
        frames += fourcc == b"ANMF"
        pos += _CHUNK_HEADER + size + (size & 1)  # chunks are padded to an even length
        if pos > end + (size & 1):
            raise corrupt(f"WebP {fourcc.decode('latin-1')!r} chunk runs past the end of the "
                          "container")
    if not saw_image_data:
        raise corrupt("WebP has no image data")
    return WebpLayout(end=end, frame_count=max(frames, 1))
