"""Byte builders for the malformed-image corpus: photo-like pictures drawn with numpy and
OpenCV, encoded with Pillow or OpenCV, and containers forged byte by byte.

Nothing here is downloaded; everything is derived from a numpy Generator, so the same
seed always gives the same bytes.
"""
from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np
from PIL import Image, ImageCms

from marketplace_core.media._opencv import cv2

# Pictures -----------------------------------------------------------------------------

def photo(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """An RGB uint8 array with gradients, shapes and sensor-like noise, so it compresses
    like a photo rather than like a flat test card."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    canvas = np.stack([x / max(width - 1, 1) * 200 + 30,
                       y / max(height - 1, 1) * 180 + 40,
                       (x + y) / max(width + height - 2, 1) * 160 + 60], axis=-1)
    canvas = np.ascontiguousarray(canvas.astype(np.uint8))
    for _ in range(6):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        short_side = min(width, height)
        radius = int(rng.integers(max(2, short_side // 10), max(3, short_side // 3)))
        cv2.circle(canvas, centre, radius, colour, thickness=-1)
    noise = rng.standard_normal(canvas.shape, dtype=np.float32) * 6
    return np.clip(canvas + noise, 0, 255).astype(np.uint8)


def halves(width: int, height: int, left: tuple[int, int, int],
           right: tuple[int, int, int]) -> Image.Image:
    """Left half one colour, right half another: orientation is visible in the pixels."""
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = left
    pixels[:, width // 2:] = right
    return Image.fromarray(pixels)


def encode(image: Image.Image | np.ndarray, image_format: str, **params: object) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def jpeg(rng: np.random.Generator, width: int, height: int, **params: object) -> bytes:
    params.setdefault("quality", 90)
    return encode(photo(rng, width, height), "JPEG", **params)


def png(rng: np.random.Generator, width: int, height: int, **params: object) -> bytes:
    return encode(photo(rng, width, height), "PNG", **params)


def webp(rng: np.random.Generator, width: int, height: int, **params: object) -> bytes:
    params.setdefault("quality", 80)
    return encode(photo(rng, width, height), "WEBP", **params)


def opencv_png(pixels: np.ndarray) -> bytes:
    """OpenCV writes 16-bit PNGs from uint16 arrays, which Pillow cannot produce."""
    ok, buffer = cv2.imencode(".png", pixels)
    if not ok:
        raise RuntimeError("OpenCV could not encode the PNG")
    return buffer.tobytes()


def exif_with_gps(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Corpus Phones"
    exif[0x0110] = "Model 7"
    # A seller's home in Bengaluru: exactly what must never reach buyers.
    exif[0x8825] = {1: "N", 2: (12.0, 58.0, 12.3), 3: "E", 4: (77.0, 35.0, 40.1)}
    return exif.tobytes()


def srgb_profile() -> bytes:
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # LittleCMS stamps the creation time into the header (bytes 24-35); pin it so the
    # corpus is the same byte for byte on every run.
    profile[24:36] = bytes([0x07, 0xE8, 0, 1, 0, 1] + [0] * 6)
    return bytes(profile)


def animation(rng: np.random.Generator, image_format: str, frames: int, size: int,
              **params: object) -> bytes:
    images = [Image.fromarray(photo(rng, size, size)) for _ in range(frames)]
    return encode(images[0], image_format, save_all=True, append_images=images[1:],
                  duration=100, loop=0, **params)


# PNG containers -------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(chunk_type: bytes, payload: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(chunk_type + payload) if crc is None else crc
    return (len(payload).to_bytes(4, "big") + chunk_type + payload
            + checksum.to_bytes(4, "big"))


def png_ihdr(width: int, height: int, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    return png_chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big")
                     + bytes([bit_depth, colour_type, 0, 0, 0]))


def png_from_chunks(*chunks: bytes) -> bytes:
    return PNG_SIGNATURE + b"".join(chunks)


def forged_png(width: int, height: int) -> bytes:
    """A header that promises a huge image, followed by a few bytes of deflate."""
    return png_from_chunks(png_ihdr(width, height), png_chunk(b"IDAT", zlib.compress(b"\0" * 64)),
                           png_chunk(b"IEND", b""))


def zero_filled_png(width: int, height: int, bit_depth: int = 1) -> bytes:
    """A real, decodable greyscale PNG of zeros: megapixels in kilobytes."""
    row = b"\0" * (1 + (width * bit_depth + 7) // 8)  # filter byte + packed samples
    deflate = zlib.compressobj(9)
    rows_per_batch = max(1, (4 << 20) // len(row))
    parts = []
    for first in range(0, height, rows_per_batch):
        parts.append(deflate.compress(row * min(rows_per_batch, height - first)))
    parts.append(deflate.flush())
    return png_from_chunks(png_ihdr(width, height, bit_depth, colour_type=0),
                           png_chunk(b"IDAT", b"".join(parts)), png_chunk(b"IEND", b""))


def insert_png_chunk_after_ihdr(data: bytes, chunk: bytes) -> bytes:
    ihdr_end = len(PNG_SIGNATURE) + 8 + 13 + 4
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def compressed_text_chunk(keyword: bytes, text: bytes) -> bytes:
    return png_chunk(b"zTXt", keyword + b"\0\0" + zlib.compress(text, 9))


def compressed_international_text_chunk(keyword: bytes, text: bytes) -> bytes:
    return png_chunk(b"iTXt", keyword + b"\0\x01\0en\0\0" + zlib.compress(text, 9))


def compressed_profile_chunk(profile: bytes) -> bytes:
    return png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(profile, 9))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk bytes) for a well-formed PNG, to rearrange in forgeries."""
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        chunks.append((data[pos + 4:pos + 8], data[pos:pos + 12 + length]))
        pos += 12 + length
    return chunks


# JPEG containers ------------------------------------------------------------------------

def jpeg_segment_offset(data: bytes, marker: int) -> int:
    """Offset of the first marker segment of this type, found by walking the lengths of a
    well-formed JPEG's header segments."""
    pos = 2
    while pos < len(data):
        if data[pos + 1] == marker:
            return pos
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    raise ValueError(f"no marker 0x{marker:02X}")


def with_jpeg_dimensions(data: bytes, width: int, height: int) -> bytes:
    sof = jpeg_segment_offset(data, 0xC0)
    patched = bytearray(data)
    patched[sof + 5:sof + 7] = height.to_bytes(2, "big")
    patched[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(patched)


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def insert_jpeg_segment_after_soi(data: bytes, segment: bytes) -> bytes:
    return data[:2] + segment + data[2:]


def icc_segment(profile: bytes) -> bytes:
    return jpeg_segment(0xE2, b"ICC_PROFILE\0\x01\x01" + profile)


# WebP containers ------------------------------------------------------------------------

def webp_chunk(fourcc: bytes, payload: bytes) -> bytes:
    padding = b"\0" if len(payload) % 2 else b""
    return fourcc + len(payload).to_bytes(4, "little") + payload + padding


def webp_from_chunks(*chunks: bytes) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def vp8x_chunk(width: int, height: int, flags: int = 0) -> bytes:
    return webp_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
                      + (height - 1).to_bytes(3, "little"))


def vp8l_header(width: int, height: int) -> bytes:
    bits = (width - 1) | (height - 1) << 14
    return b"\x2f" + bits.to_bytes(4, "little")


def webp_first_chunk(data: bytes) -> bytes:
    size = int.from_bytes(data[16:20], "little")
    return data[12:20 + size + size % 2]


def with_riff_size(data: bytes, size: int) -> bytes:
    return data[:4] + size.to_bytes(4, "little") + data[8:]


# Things that are not photos -----------------------------------------------------------

def zip_archive(name: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), payload)
    return buffer.getvalue()


def iso_box(box_type: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + box_type + payload


def motion_photo_video(rng: np.random.Generator, extra: bytes = b"") -> bytes:
    """A skeletal MP4 (ftyp, mdat, free) of the kind Google motion photos append."""
    return (iso_box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")
            + iso_box(b"mdat", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
            + iso_box(b"free", extra))


def samsung_trailer(payload: bytes = b"1700000000000") -> bytes:
    """Samsung's SEF layout: data blocks, an SEFH directory, its length, then b"SEFT"."""
    name = b"Image_UTC_Data"
    block = b"\0\0" + (0x0A01).to_bytes(2, "little") + len(name).to_bytes(4, "little") \
        + name + payload
    entry = (b"\0\0" + (0x0A01).to_bytes(2, "little") + len(block).to_bytes(4, "little")
             + len(block).to_bytes(4, "little"))
    directory = b"SEFH" + (106).to_bytes(4, "little") + (1).to_bytes(4, "little") + entry
    return block + directory + len(directory).to_bytes(4, "little") + b"SEFT"


def other_format(kind: str, rng: np.random.Generator) -> bytes:
    """Files of refused types, produced by real encoders where Pillow has one."""
    picture = Image.fromarray(photo(rng, 240, 240))
    if kind in ("GIF", "BMP", "TIFF", "ICO", "PPM", "TGA"):
        return encode(picture.convert("P") if kind == "GIF" else picture, kind)
    return _TEXTUAL_FORMATS[kind]


_TEXTUAL_FORMATS = {
    "SVG": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="300" '
           b'height="300"><script>alert(document.domain)</script></svg>',
    "PDF": b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>"
           b"\n%%EOF\n",
    "HTML": b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
    "GIF_JS": b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(document.cookie);//",
    "HEIC": b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64,
    "AVIF": b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf" + b"\0" * 64,
    "JPEG2000": b"\0\0\0\x0cjP  \r\n\x87\n" + b"\0" * 64,
    "PSD": b"8BPS\0\x01" + b"\0" * 64,
    "WAVE": b"RIFF\x24\0\0\0WAVEfmt " + b"\0" * 32,
    "TEXT": b"Kurta, size M, worn twice. DM for price.\n",
    "PHP": b"<?php system($_GET['c']); ?>",
}
