"""What may follow the end of an image: the polyglot check.

Bytes after a JPEG's EOI, a PNG's IEND or a WebP's RIFF container are ignored by image
decoders but read by other parsers: a ZIP reader finds an archive at the end of a file and
a browser sniffing content finds HTML. That is how JPEG+ZIP and PNG+HTML polyglots work.
Re-encoding removes the payload from what we store, but the upload itself is a signal for
trust & safety, so it is refused.

Phones do append data of their own to JPEGs, and refusing those would refuse ordinary
photos: further JPEG streams (MPF multi-picture, Android Ultra HDR gain maps), Samsung's
SEF trailer (capture metadata, motion-photo video) and ISO media boxes (Google motion
photos). These are accepted when their structure checks out and they carry no markup or
ZIP directory.
"""
from __future__ import annotations

import re

from marketplace_core.media import jpeg
from marketplace_core.media.errors import ImageRejected, RejectionCode
from marketplace_core.media.formats import JPEG_MAGIC, ImageFormat

_PADDING = re.compile(rb"[\x00\xff]*")
_MARKUP = re.compile(rb"<(?:html|script|svg|body|iframe|!doctype|\?php)|%pdf-|javascript:",
                     re.IGNORECASE)
_ZIP_END_OF_DIRECTORY = b"PK\x05\x06"
# A ZIP reader looks for its end-of-directory record this far from the end of the file.
_ZIP_TAIL_SEARCH = 22 + 0xFFFF


def check_trailing_data(image_format: ImageFormat, data: bytes, end: int) -> None:
    if _is_padding(data, end):
        return
    if image_format is ImageFormat.JPEG and _is_camera_trailer(data, end) \
            and not _carries_foreign_payload(data, end):
        return
    raise ImageRejected(
        RejectionCode.SUSPICIOUS_TRAILING_DATA,
        f"The file has {len(data) - end} unexpected bytes after the end of the image.")


def _is_padding(data: bytes, start: int) -> bool:
    return _PADDING.fullmatch(data, start) is not None


def _is_camera_trailer(data: bytes, start: int) -> bool:
    pos = start
    while pos < len(data) and not _is_padding(data, pos):
        if not data.startswith(JPEG_MAGIC, pos):
            return _is_samsung_trailer(data, pos) or _is_iso_media(data, pos)
        try:
            pos = jpeg.stream_end(data, pos)
        except ImageRejected:
            return False
    return True


def _is_samsung_trailer(data: bytes, start: int) -> bool:
    """Samsung's SEF trailer ends with an SEFH directory, its length (LE32) and b"SEFT"."""
    if len(data) - start < 16 or not data.endswith(b"SEFT"):
        return False
    directory_length = int.from_bytes(data[-8:-4], "little")
    directory_start = len(data) - 8 - directory_length
    return directory_start >= start and data.startswith(b"SEFH", directory_start)


def _is_iso_media(data: bytes, start: int) -> bool:
    """A chain of ISO BMFF boxes (an MP4 video) that starts with ftyp and ends at EOF."""
    pos = start
    while pos < len(data):
        if pos + 8 > len(data) or (pos == start and data[pos + 4:pos + 8] != b"ftyp"):
            return False
        size, header = int.from_bytes(data[pos:pos + 4], "big"), 8
        if size == 1:  # a 64-bit size follows the box type
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - pos
        if size < header:
            return False
        pos += size
    return pos == len(data)


def _carries_foreign_payload(data: bytes, start: int) -> bool:
    if _MARKUP.search(data, start):
        return True
    tail_start = max(start, len(data) - _ZIP_TAIL_SEARCH)
    return data.find(_ZIP_END_OF_DIRECTORY, tail_start) >= 0
