"""JPEG structure, read marker by marker without decoding any pixels.

The walk follows ITU-T T.81 Annex B: marker segments carry a big-endian length, and after
each SOS the entropy-coded data runs until the next marker that is not a stuffed 0xFF00 or
a restart marker.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from marketplace_core.media.errors import corrupt

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# Every start-of-frame marker; C4 (DHT), C8 (reserved) and CC (DAC) share the range.
FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7,
                           0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
_MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(frozen=True, slots=True)
class Segment:
    marker: int
    start: int  # first payload byte
    end: int    # one past the last payload byte


def iter_segments(data: bytes, start: int = 0) -> Iterator[Segment]:
    """Yield each marker segment from SOI to EOI; the EOI comes last with an empty payload."""
    if data[start:start + 2] != b"\xff\xd8":
        raise corrupt("missing JPEG start-of-image marker")
    pos = start + 2
    while True:
        pos, marker = _read_marker(data, pos)
        if marker == EOI:
            yield Segment(EOI, pos, pos)
            return
        if marker in _STANDALONE_MARKERS:
            continue
        if marker in (SOI, 0x00):
            raise corrupt(f"unexpected JPEG marker 0x{marker:02X}")
        segment = _read_segment(data, pos, marker)
        yield segment
        pos = segment.end
        if marker == SOS:
            pos = _skip_entropy_coded_data(data, pos)


def _read_marker(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise corrupt("JPEG ends before its end-of-image marker")
    if data[pos] != 0xFF:
        raise corrupt(f"expected a JPEG marker at byte {pos}")
    while pos < len(data) and data[pos] == 0xFF:  # 0xFF fill bytes may precede any marker
        pos += 1
    if pos >= len(data):
        raise corrupt("JPEG ends before its end-of-image marker")
    return pos + 1, data[pos]


def _read_segment(data: bytes, pos: int, marker: int) -> Segment:
    if pos + 2 > len(data):
        raise corrupt("JPEG ends inside a marker segment")
    length = int.from_bytes(data[pos:pos + 2], "big")
    if length < 2:
        raise corrupt(f"JPEG marker 0x{marker:02X} has an impossible length")
    end = pos + length
    if end > len(data):
        raise corrupt("JPEG ends inside a marker segment")
    return Segment(marker, pos + 2, end)


def _skip_entropy_coded_data(data: bytes, pos: int) -> int:
    found = _MARKER_AFTER_SCAN.search(data, pos)
    if found is None:
        raise corrupt("JPEG image data ends before its end-of-image marker")
    return found.start()


def read_dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from the first frame header; nothing after it is read."""
    for segment in iter_segments(data):
        if segment.marker in FRAME_MARKERS:
            return _frame_dimensions(data, segment)
        if segment.marker in (SOS, EOI):
            break
    raise corrupt("JPEG has no frame header before its image data")


def _frame_dimensions(data: bytes, frame: Segment) -> tuple[int, int]:
    payload = data[frame.start:frame.end]
    if len(payload) < 6:
        raise corrupt("JPEG frame header is too short")
    height = int.from_bytes(payload[1:3], "big")
    width = int.from_bytes(payload[3:5], "big")
    components = payload[5]
    if components not in (1, 3, 4) or len(payload) != 6 + 3 * components:
        raise corrupt("JPEG frame header has an invalid component list")
    if width == 0 or height == 0:
        # Height 0 defers to a DNL marker, which libjpeg does not support either.
        raise corrupt("JPEG frame header declares a zero dimension")
    return width, height


def stream_end(data: bytes, start: int = 0) -> int:
    """Offset just past the EOI of the JPEG stream at `start`, after checking its layout."""
    frames = 0
    scans = 0
    for segment in iter_segments(data, start):
        if segment.marker in FRAME_MARKERS:
            frames += 1
            if frames > 1:
                raise corrupt("JPEG has more than one frame header")
        elif segment.marker == SOS:
            if frames == 0:
                raise corrupt("JPEG image data comes before its frame header")
            scans += 1
        elif segment.marker == EOI:
            if scans == 0:
                raise corrupt("JPEG has no image data")
            return segment.end
    raise corrupt("JPEG ends before its end-of-image marker")  # unreachable: EOI comes last
