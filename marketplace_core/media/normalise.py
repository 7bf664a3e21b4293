"""Decode an image that passed the header checks and turn it into the one form we store:
an sRGB JPEG, upright, flattened on white, no larger than the configured long side, with
no metadata at all.

Colour: an embedded ICC profile (Display P3 from iPhones, Adobe RGB, CMYK press profiles)
is used to convert the pixels to sRGB and is then dropped; the output carries no profile,
which every browser and OpenCV read as sRGB. A profile that cannot be parsed is ignored and
the pixels are taken as sRGB, because the photo is still usable.
"""
from __future__ import annotations

import io
import logging
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageCms

from marketplace_core.media.errors import ImageRejected, RejectionCode, corrupt
from marketplace_core.media.formats import ImageFormat
from marketplace_core.media.headers import ImageHeader
from marketplace_core.media.limits import ImageLimits

logger = logging.getLogger(__name__)

_PILLOW_PLUGINS = {ImageFormat.JPEG: "JPEG", ImageFormat.PNG: "PNG", ImageFormat.WEBP: "WEBP"}
# The JPEG plugin itself returns an "MPO" image for JPEGs that carry MPF pictures
# (gain maps, depth maps); the first picture is the photo.
_PILLOW_FORMATS = {ImageFormat.JPEG: ("JPEG", "MPO"), ImageFormat.PNG: ("PNG",),
                   ImageFormat.WEBP: ("WEBP",)}
_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_WHITE = (255, 255, 255)
_SRGB = ImageCms.createProfile("sRGB")
# What Pillow and its codecs raise for bad input; anything else is logged as a possible bug.
_EXPECTED_DECODER_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error,
                            zlib.error, ImageCms.PyCMSError)


def decode_and_normalise(data: bytes, header: ImageHeader,
                         limits: ImageLimits) -> tuple[bytes, int, int]:
    """Return (jpeg bytes, width, height) or raise ImageRejected; never anything else."""
    with _decoder_errors_as_rejections():
        image = _open_lazily(data, header)
        _request_reduced_jpeg_decode(image, limits.output_max_long_side)
        image.load()
        image = _apply_exif_orientation(image)
        icc_profile = image.info.get("icc_profile")
        image = _flatten_on_white(image)
        image = _cap_long_side(image, limits.output_max_long_side)
        image = _to_srgb(image, icc_profile)
        return _encode_without_metadata(image, limits.jpeg_quality), image.width, image.height


@contextmanager
def _decoder_errors_as_rejections() -> Iterator[None]:
    # Hostile files make Pillow warn (corrupt EXIF and the like); those warnings must not
    # turn into errors under `python -W error`, nor flood logs, so all are ignored except
    # the decompression-bomb warning, which becomes an error. catch_warnings swaps
    # process-wide filters; that warning only fires for images over Pillow's own limit,
    # which our header checks refuse first, so a racing thread loses nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning,
                MemoryError) as exc:
            raise ImageRejected(RejectionCode.DECOMPRESSION_BOMB,
                                "The image needs too much memory to decode.") from exc
        except _EXPECTED_DECODER_ERRORS as exc:
            logger.debug("decoder refused an upload: %s", exc)
            raise corrupt("the image data cannot be decoded") from exc
        except Exception as exc:
            logger.warning("unexpected error while decoding an upload", exc_info=True)
            raise corrupt("the image data cannot be decoded") from exc


def _open_lazily(data: bytes, header: ImageHeader) -> Image.Image:
    """Pillow reads the header only; restricting formats stops it guessing another one."""
    image = Image.open(io.BytesIO(data), formats=[_PILLOW_PLUGINS[header.format]])
    declared_size = (header.width, header.height)
    if image.format not in _PILLOW_FORMATS[header.format] or image.size != declared_size:
        raise corrupt("the decoder disagrees with the image header")
    if header.format is not ImageFormat.JPEG and getattr(image, "n_frames", 1) > 1:
        raise ImageRejected(RejectionCode.ANIMATED_NOT_SUPPORTED,
                            "Animated images are not accepted; upload a still photo.")
    return image


def _request_reduced_jpeg_decode(image: Image.Image, max_long_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the output is smaller anyway:
    a 50 MP photo then costs a fraction of the memory and time."""
    if image.format not in _PILLOW_FORMATS[ImageFormat.JPEG]:
        return
    scale = max_long_side / max(image.size)
    if scale < 1:
        target = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image.draft(None, target)


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(_exif_orientation(image))
    return image.transpose(method) if method is not None else image


def _exif_orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:
        # Unreadable EXIF: show the pixels as stored; the EXIF is discarded anyway.
        logger.debug("ignoring unreadable EXIF", exc_info=True)
        return 1


def _flatten_on_white(image: Image.Image) -> Image.Image:
    """Reduce every mode to L, RGB or CMYK; transparent areas become white.

    Flattening also destroys content hidden under fully transparent pixels.
    """
    if image.mode.startswith("I"):
        return _high_bit_depth_grey_to_l(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("L", "RGB", "CMYK"):
        return image
    return image.convert("L" if image.mode == "1" else "RGB")


def _high_bit_depth_grey_to_l(image: Image.Image) -> Image.Image:
    # Pillow's own conversion of 16-bit grey clips at 255 instead of scaling.
    levels = np.clip(np.asarray(image, dtype=np.int64), 0, 0xFFFF) >> 8
    return Image.fromarray(levels.astype(np.uint8))


def _cap_long_side(image: Image.Image, max_long_side: int) -> Image.Image:
    long_side = max(image.size)
    if long_side <= max_long_side:
        return image
    scale = max_long_side / long_side
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except Exception:
            logger.debug("ignoring an unusable ICC profile", exc_info=True)
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode_without_metadata(image: Image.Image, quality: int) -> bytes:
    # A fresh image has an empty info dict: Pillow copies a source's JPEG comment into the
    # output on its own, and this guarantees no EXIF, XMP, comment or profile goes along.
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    buffer = io.BytesIO()
    clean.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()
