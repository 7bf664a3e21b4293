"""Which format an upload is, judged by its magic bytes only.

File names and declared content types are chosen by the client, so they never decide the
format; the declared type is only checked for the one combination that signals an attack
(see `check_declared_content_type`).
"""
from __future__ import annotations

from enum import StrEnum

from marketplace_core.media.errors import ImageRejected, RejectionCode


class ImageFormat(StrEnum):
    JPEG = "JPEG"
    PNG = "PNG"
    WEBP = "WEBP"


JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sniff_format(data: bytes) -> ImageFormat:
    if data.startswith(JPEG_MAGIC):
        return ImageFormat.JPEG
    if data.startswith(PNG_MAGIC):
        return ImageFormat.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    raise ImageRejected(
        RejectionCode.UNSUPPORTED_FORMAT,
        f"{describe_unsupported(data)} is not accepted; upload a JPEG, PNG or WebP photo.")


_KNOWN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "A GIF image"),
    (b"GIF89a", "A GIF image"),
    (b"BM", "A BMP image"),
    (b"II*\x00", "A TIFF image"),
    (b"MM\x00*", "A TIFF image"),
    (b"%PDF", "A PDF document"),
    (b"PK\x03\x04", "A ZIP archive"),
    (b"\x00\x00\x01\x00", "An icon file"),
    (b"\xff\x0a", "A JPEG XL image"),
    (b"\x00\x00\x00\x0cjP  ", "A JPEG 2000 image"),
)


def describe_unsupported(data: bytes) -> str:
    """A human name for a refused file, so the message tells the seller what went wrong."""
    if not data:
        return "An empty file"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand[:3] in (b"hei", b"hev", b"mif") or brand == b"msf1":
            return "A HEIC photo (the iPhone default)"
        if brand[:3] == b"avi":
            return "An AVIF image"
        return "A video or ISO media file"
    for signature, name in _KNOWN_SIGNATURES:
        if data.startswith(signature):
            return name
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "An SVG image"
    if head.startswith((b"<!doctype", b"<html", b"<")):
        return "A markup (HTML or XML) file"
    return "This file type"


# Declared types that name one of our formats (browsers, apps and old IE variants).
_DECLARED_PHOTO_TYPES = {
    "image/jpeg", "image/jpg", "image/pjpeg",
    "image/png", "image/x-png", "image/apng",
    "image/webp",
}
# Declared types that say nothing about the content.
_NEUTRAL_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


def check_declared_content_type(declared: str | None, actual: ImageFormat) -> None:
    """Refuse a photo the client labelled as a non-photo type; ignore photo-to-photo slips.

    Browsers derive Content-Type from the file extension, so a PNG saved as .jpg arrives as
    image/jpeg; refusing it would bounce honest sellers and protects nothing, because the
    bytes decide the format and the output is re-encoded. A client that calls photo bytes
    text/html, image/svg+xml or application/zip is either broken or probing with a
    polyglot, and no honest client sends that, so it is refused.
    """
    if declared is None:
        return
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type in _NEUTRAL_TYPES or media_type in _DECLARED_PHOTO_TYPES:
        return
    raise ImageRejected(
        RejectionCode.CONTENT_TYPE_MISMATCH,
        f"The file was sent as {media_type[:100]!r} but contains a {actual.value} image.")
