"""PNG structure, read chunk by chunk without inflating the image data.

Every chunk's CRC is checked, because a damaged file is better refused here with a clear
code than half-decoded later.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from marketplace_core.media.errors import ImageRejected, RejectionCode, corrupt
from marketplace_core.media.formats import PNG_MAGIC

_MAX_CHUNK_LENGTH = 0x7FFF_FFFF  # PNG spec: lengths are at most 2^31 - 1
# Ancillary chunks that hold deflate-compressed metadata Pillow inflates on open.
_COMPRESSED_METADATA = (b"zTXt", b"iCCP", b"iTXt")


@dataclass(frozen=True, slots=True)
class Chunk:
    type: bytes
    start: int  # first payload byte
    end: int    # one past the last payload byte


@dataclass(frozen=True, slots=True)
class PngLayout:
    end: int          # one past the IEND chunk's CRC
    frame_count: int  # from acTL; 1 for a still image


def iter_chunks(data: bytes) -> Iterator[Chunk]:
    """Yield chunks from the one after the signature up to and including IEND."""
    view = memoryview(data)
    pos = len(PNG_MAGIC)
    while True:
        chunk = _read_chunk(data, view, pos)
        yield chunk
        pos = chunk.end + 4
        if chunk.type == b"IEND":
            return


def _read_chunk(data: bytes, view: memoryview, pos: int) -> Chunk:
    if pos + 8 > len(data):
        raise corrupt("PNG ends before its IEND chunk")
    length = int.from_bytes(data[pos:pos + 4], "big")
    chunk_type = data[pos + 4:pos + 8]
    if length > _MAX_CHUNK_LENGTH or not chunk_type.isalpha():
        raise corrupt(f"PNG chunk header at byte {pos} is invalid")
    end = pos + 8 + length
    if end + 4 > len(data):
        raise corrupt(f"PNG ends inside its {chunk_type.decode('ascii')} chunk")
    if zlib.crc32(view[pos + 4:end]) != int.from_bytes(data[end:end + 4], "big"):
        raise corrupt(f"PNG {chunk_type.decode('ascii')} chunk fails its checksum")
    return Chunk(chunk_type, pos + 8, end)


def read_dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from IHDR, which the PNG spec requires to be the first chunk."""
    first = next(iter_chunks(data))
    if first.type != b"IHDR" or first.end - first.start != 13:
        raise corrupt("PNG does not start with a valid IHDR chunk")
    width = int.from_bytes(data[first.start:first.start + 4], "big")
    height = int.from_bytes(data[first.start + 4:first.start + 8], "big")
    if not (0 < width <= _MAX_CHUNK_LENGTH and 0 < height <= _MAX_CHUNK_LENGTH):
        raise corrupt("PNG IHDR declares an invalid dimension")
    return width, height


def read_layout(data: bytes, max_metadata_bytes: int) -> PngLayout:
    frame_count = 1
    saw_image_data = False
    for index, chunk in enumerate(iter_chunks(data)):
        payload = data[chunk.start:chunk.end]
        if chunk.type == b"IHDR" and index > 0:
            raise corrupt("PNG has more than one IHDR chunk")
        if chunk.type == b"IDAT":
            saw_image_data = True
        elif chunk.type == b"acTL" and len(payload) >= 4:
            frame_count = max(1, int.from_bytes(payload[:4], "big"))
        elif chunk.type in _COMPRESSED_METADATA:
            _check_metadata_inflation(chunk.type, payload, max_metadata_bytes)
        if chunk.type == b"IEND":
            if not saw_image_data:
                raise corrupt("PNG has no image data")
            return PngLayout(end=chunk.end + 4, frame_count=frame_count)
    raise corrupt("PNG ends before its IEND chunk")  # unreachable: IEND comes last


def _check_metadata_inflation(chunk_type: bytes, payload: bytes, limit: int) -> None:
    compressed = _compressed_part(chunk_type, payload)
    if compressed is None:
        return
    inflater = zlib.decompressobj()
    try:
        inflater.decompress(compressed, limit)
    except zlib.error:
        return  # Pillow drops undecodable metadata, and so do we when re-encoding.
    if inflater.unconsumed_tail:
        raise ImageRejected(
            RejectionCode.DECOMPRESSION_BOMB,
            f"The PNG {chunk_type.decode('ascii')} metadata inflates beyond {limit} bytes.")


def _compressed_part(chunk_type: bytes, payload: bytes) -> bytes | None:
    """The deflate stream inside a metadata chunk, or None when it holds plain text."""
    keyword_end = payload.find(b"\x00")
    if keyword_end < 0:
        return None
    if chunk_type != b"iTXt":  # zTXt and iCCP: keyword, NUL, method byte, stream
        return payload[keyword_end + 2:]
    is_compressed = payload[keyword_end + 1:keyword_end + 2] == b"\x01"
    language_end = payload.find(b"\x00", keyword_end + 3)
    translated_end = payload.find(b"\x00", language_end + 1) if language_end >= 0 else -1
    if not is_compressed or translated_end < 0:
        return None
    return payload[translated_end + 1:]
