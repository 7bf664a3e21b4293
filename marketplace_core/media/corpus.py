"""A deterministic corpus of valid and hostile image files, each with the exact rejection
code intake must give it (None: accepted).

Used by the test suite and available to anyone hardening the pipeline:
`build_corpus(directory)` writes the files and returns the cases. Each case draws its own
random stream from (seed, name), so a case's bytes do not depend on the others, and every
expected code holds for any seed. Pictures are small except where size is the point.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from marketplace_core.media import synthetic as s
from marketplace_core.media.errors import RejectionCode as Code
from marketplace_core.media.limits import DEFAULT_LIMITS

Builder = Callable[[np.random.Generator], bytes]


@dataclass(frozen=True, slots=True)
class CorpusCase:
    path: Path
    expected_code: str | None
    declared_content_type: str | None = None


@dataclass(frozen=True, slots=True)
class CorpusSpec:
    name: str
    expected_code: Code | None
    build: Builder
    suffix: str
    declared_content_type: str | None = None


def build_corpus(directory: str | Path, seed: int = 0, *,
                 only: Collection[str] | None = None) -> list[CorpusCase]:
    """Write the corpus (or the cases named in `only`) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cases = []
    for spec in corpus_specs():
        if only is not None and spec.name not in only:
            continue
        path = directory / f"{spec.name}{spec.suffix}"
        path.write_bytes(spec.build(_case_rng(seed, spec.name)))
        code = spec.expected_code.value if spec.expected_code else None
        cases.append(CorpusCase(path, code, spec.declared_content_type))
    return cases


def corpus_specs() -> list[CorpusSpec]:
    """The case table without building anything: cheap enough for test collection."""
    specs = [spec for group in _GROUPS for spec in group()]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise RuntimeError("corpus case names must be unique")
    return specs


def _case_rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("ascii"))])


def _spec(name: str, code: Code | None, build: Builder, suffix: str = ".jpg",
          declared: str | None = None) -> CorpusSpec:
    return CorpusSpec(name, code, build, suffix, declared)


# Accepted photos --------------------------------------------------------------------------

def _accepted_jpegs() -> Iterable[CorpusSpec]:
    yield _spec("jpeg_baseline", None, lambda r: s.jpeg(r, 640, 480))
    yield _spec("jpeg_progressive", None, lambda r: s.jpeg(r, 480, 360, progressive=True))
    yield _spec("jpeg_low_quality", None, lambda r: s.jpeg(r, 320, 240, quality=25))
    yield _spec("jpeg_no_subsampling", None, lambda r: s.jpeg(r, 320, 320, subsampling=0))
    yield _spec("jpeg_restart_markers", None,
                lambda r: s.jpeg(r, 400, 300, restart_marker_blocks=3))
    yield _spec("jpeg_greyscale", None,
                lambda r: s.encode(Image.fromarray(s.photo(r, 300, 300)).convert("L"), "JPEG"))
    yield _spec("jpeg_cmyk", None,
                lambda r: s.encode(Image.fromarray(s.photo(r, 300, 240)).convert("CMYK"), "JPEG"))
    yield _spec("jpeg_exact_minimum_side", None,
                lambda r: s.jpeg(r, DEFAULT_LIMITS.min_short_side, 300))
    yield _spec("jpeg_over_output_size", None, lambda r: s.jpeg(r, 2600, 1400, quality=70))
    for orientation in range(1, 9):
        yield _spec(f"jpeg_exif_orientation_{orientation}_with_gps", None,
                    lambda r, o=orientation: s.jpeg(r, 360, 240, exif=s.exif_with_gps(o)))
    yield _spec("jpeg_comment_and_xmp", None, lambda r: s.jpeg(
        r, 300, 300, comment=b"shot at home", xmp=b"<x:xmpmeta>private</x:xmpmeta>"))
    yield _spec("jpeg_markup_in_comment", None, lambda r: s.jpeg(
        r, 300, 300, comment=b"<html><script>alert(1)</script></html>"))
    yield _spec("jpeg_srgb_profile", None,
                lambda r: s.jpeg(r, 300, 300, icc_profile=s.srgb_profile()))
    yield _spec("jpeg_unusable_profile", None, lambda r: s.insert_jpeg_segment_after_soi(
        s.jpeg(r, 300, 300), s.icc_segment(b"not an ICC profile" * 8)))
    yield _spec("jpeg_unparseable_exif", None, lambda r: s.insert_jpeg_segment_after_soi(
        s.jpeg(r, 300, 300), s.jpeg_segment(0xE1, b"Exif\0\0MM\0*\0\0\xff\xff" + b"\0" * 20)))
    yield _spec("jpeg_fill_bytes_before_marker", None,
                lambda r: b"\xff\xd8\xff\xff\xff" + s.jpeg(r, 300, 300)[3:])


def _accepted_jpeg_trailers() -> Iterable[CorpusSpec]:
    yield _spec("jpeg_zero_padding_after_end", None,
                lambda r: s.jpeg(r, 300, 300) + b"\0" * 512)
    yield _spec("jpeg_gain_map_appended", None,
                lambda r: s.jpeg(r, 400, 300) + s.jpeg(r, 100, 75, quality=60))
    yield _spec("jpeg_samsung_trailer", None,
                lambda r: s.jpeg(r, 400, 300) + s.samsung_trailer())
    yield _spec("jpeg_motion_photo_video", None,
                lambda r: s.jpeg(r, 400, 300) + s.motion_photo_video(r))
    yield _spec("jpeg_multi_picture_format", None, lambda r: s.encode(
        Image.fromarray(s.photo(r, 400, 300)), "MPO", save_all=True,
        append_images=[Image.fromarray(s.photo(r, 200, 150))]))
    yield _spec("jpeg_gain_map_then_video", None, lambda r: s.jpeg(r, 400, 300)
                + s.jpeg(r, 100, 75) + s.motion_photo_video(r))


def _accepted_pngs() -> Iterable[CorpusSpec]:
    yield _spec("png_rgb", None, lambda r: s.png(r, 400, 300), ".png")
    yield _spec("png_rgba", None, lambda r: s.encode(_with_alpha(s.photo(r, 300, 300)), "PNG"),
                ".png")
    yield _spec("png_palette_with_transparency", None, _palette_png_with_transparency, ".png")
    yield _spec("png_palette_opaque", None, lambda r: s.encode(
        Image.fromarray(s.photo(r, 300, 300)).convert("P"), "PNG"), ".png")
    yield _spec("png_greyscale", None, lambda r: s.encode(
        Image.fromarray(s.photo(r, 300, 300)).convert("L"), "PNG"), ".png")
    yield _spec("png_greyscale_alpha", None, lambda r: s.encode(
        _with_alpha(s.photo(r, 300, 300)).convert("LA"), "PNG"), ".png")
    yield _spec("png_1_bit", None, lambda r: s.encode(
        Image.fromarray(s.photo(r, 300, 300)).convert("1"), "PNG"), ".png")
    yield _spec("png_16_bit_grey", None, lambda r: s.opencv_png(
        s.photo(r, 300, 300)[:, :, 0].astype(np.uint16) * 257), ".png")
    yield _spec("png_16_bit_rgb", None, lambda r: s.opencv_png(
        s.photo(r, 300, 300).astype(np.uint16) * 257), ".png")
    yield _spec("png_16_bit_rgba", None, lambda r: s.opencv_png(
        np.dstack([s.photo(r, 300, 300), np.full((300, 300, 1), 128, np.uint8)])
        .astype(np.uint16) * 257), ".png")
    yield _spec("png_rgb_colour_key", None, lambda r: s.encode(
        Image.fromarray(s.photo(r, 300, 300)), "PNG", transparency=(0, 0, 0)), ".png")
    yield _spec("png_markup_in_text_chunk", None, lambda r: s.insert_png_chunk_after_ihdr(
        s.png(r, 300, 300), s.png_chunk(b"tEXt", b"Comment\0<script>alert(1)</script>")),
        ".png")
    yield _spec("png_compressed_text", None, lambda r: s.insert_png_chunk_after_ihdr(
        s.png(r, 300, 300), s.compressed_text_chunk(b"Comment", b"hello " * 100)), ".png")
    yield _spec("png_exif_orientation_6", None,
                lambda r: s.png(r, 360, 240, exif=s.exif_with_gps(6)), ".png")
    yield _spec("png_srgb_profile", None,
                lambda r: s.png(r, 300, 300, icc_profile=s.srgb_profile()), ".png")
    yield _spec("png_panorama", None, lambda r: s.png(r, 2400, 300), ".png")


def _accepted_webps() -> Iterable[CorpusSpec]:
    yield _spec("webp_lossy", None, lambda r: s.webp(r, 400, 300), ".webp")
    yield _spec("webp_lossless", None, lambda r: s.webp(r, 300, 300, lossless=True), ".webp")
    yield _spec("webp_alpha", None, lambda r: s.encode(
        _with_alpha(s.photo(r, 300, 300)), "WEBP"), ".webp")
    yield _spec("webp_exif_orientation_8_with_gps", None,
                lambda r: s.webp(r, 360, 240, exif=s.exif_with_gps(8)), ".webp")
    yield _spec("webp_srgb_profile", None,
                lambda r: s.webp(r, 300, 300, icc_profile=s.srgb_profile()), ".webp")


def _declared_types() -> Iterable[CorpusSpec]:
    # Photo-to-photo disagreement is ignored; a non-photo declaration is refused.
    yield _spec("png_declared_as_jpeg", None, lambda r: s.png(r, 300, 300),
                ".jpg", "image/jpeg")
    yield _spec("jpeg_declared_with_parameters", None, lambda r: s.jpeg(r, 300, 300),
                ".jpg", "IMAGE/JPEG; charset=binary")
    yield _spec("webp_declared_octet_stream", None, lambda r: s.webp(r, 300, 300),
                ".webp", "application/octet-stream")
    mismatch = Code.CONTENT_TYPE_MISMATCH
    yield _spec("png_declared_html", mismatch, lambda r: s.png(r, 300, 300), ".png", "text/html")
    yield _spec("jpeg_declared_svg", mismatch, lambda r: s.jpeg(r, 300, 300), ".jpg",
                "image/svg+xml")
    yield _spec("webp_declared_pdf", mismatch, lambda r: s.webp(r, 300, 300), ".webp",
                "application/pdf")
    yield _spec("jpeg_declared_gif", mismatch, lambda r: s.jpeg(r, 300, 300), ".jpg",
                "image/gif")
    yield _spec("png_declared_zip", mismatch, lambda r: s.png(r, 300, 300), ".png",
                "application/zip")


# Refused before any parsing --------------------------------------------------------------

def _length_and_format() -> Iterable[CorpusSpec]:
    yield _spec("zero_bytes", Code.EMPTY_FILE, lambda r: b"")
    yield _spec("jpeg_over_byte_limit", Code.FILE_TOO_LARGE,
                lambda r: s.jpeg(r, 300, 300) + b"\0" * DEFAULT_LIMITS.max_bytes)
    for index in range(10):
        yield _spec(f"random_bytes_{index}", Code.UNSUPPORTED_FORMAT,
                    lambda r, i=index: _random_bytes(r, 1 + i * 997), ".jpg")
    for kind in ("GIF", "BMP", "TIFF", "ICO", "PPM", "TGA", "SVG", "PDF", "HTML", "GIF_JS",
                 "HEIC", "AVIF", "JPEG2000", "PSD", "WAVE", "TEXT", "PHP"):
        yield _spec(f"{kind.lower()}_renamed_jpg", Code.UNSUPPORTED_FORMAT,
                    lambda r, k=kind: s.other_format(k, r), ".jpg", "image/jpeg")
    yield _spec("zip_renamed_jpg", Code.UNSUPPORTED_FORMAT,
                lambda r: s.zip_archive("a.html", b"<html></html>"), ".jpg")
    yield _spec("jpeg_soi_only", Code.UNSUPPORTED_FORMAT, lambda r: b"\xff\xd8")
    yield _spec("png_half_signature", Code.UNSUPPORTED_FORMAT, lambda r: s.PNG_SIGNATURE[:4],
                ".png")
    yield _spec("riff_without_webp", Code.UNSUPPORTED_FORMAT,
                lambda r: b"RIFF\x04\0\0\0WEB", ".webp")


def _random_bytes(rng: np.random.Generator, length: int) -> bytes:
    data = bytearray(rng.integers(0, 256, length, dtype=np.uint8).tobytes())
    data[0] = int(rng.integers(0x00, 0x40))  # never a JPEG, PNG or RIFF first byte
    return bytes(data)


# Truncated and corrupt ---------------------------------------------------------------------

_TRUNCATIONS = 24


def _truncations() -> Iterable[CorpusSpec]:
    # Smallest cut that still sniffs as the format, so each cut tests the parser.
    bases: list[tuple[str, Builder, int, str]] = [
        ("jpeg", lambda r: s.jpeg(r, 256, 256), 3, ".jpg"),
        ("jpeg_progressive", lambda r: s.jpeg(r, 256, 256, progressive=True), 3, ".jpg"),
        ("png", lambda r: s.png(r, 256, 256), 8, ".png"),
        ("webp", lambda r: s.webp(r, 256, 256), 12, ".webp"),
    ]
    for label, base, minimum, suffix in bases:
        for index in range(_TRUNCATIONS):
            yield _spec(f"{label}_truncated_{index:02d}", Code.TRUNCATED_OR_CORRUPT,
                        lambda r, b=base, m=minimum, i=index: _cut(b(r), m, i), suffix)


def _cut(data: bytes, minimum: int, index: int) -> bytes:
    return data[:minimum + (len(data) - 1 - minimum) * index // (_TRUNCATIONS - 1)]


def _corrupt_jpegs() -> Iterable[CorpusSpec]:
    corrupt = Code.TRUNCATED_OR_CORRUPT
    yield _spec("jpeg_soi_eoi", corrupt, lambda r: b"\xff\xd8\xff\xd9")
    yield _spec("jpeg_without_frame_header", corrupt, lambda r: _without_segment(
        s.jpeg(r, 300, 300), 0xC0))
    yield _spec("jpeg_scan_before_frame", corrupt, lambda r: b"\xff\xd8" + s.jpeg_segment(
        0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12\x34" * 40 + b"\xff\xd9")
    yield _spec("jpeg_zero_height", corrupt,
                lambda r: s.with_jpeg_dimensions(s.jpeg(r, 300, 300), 300, 0))
    yield _spec("jpeg_two_frame_headers", corrupt, _jpeg_with_two_frame_headers)
    yield _spec("jpeg_impossible_segment_length", corrupt,
                lambda r: b"\xff\xd8\xff\xe0\x00\x01" + s.jpeg(r, 300, 300)[2:])
    yield _spec("jpeg_garbage_between_segments", corrupt, lambda r: s.insert_jpeg_segment_after_soi(
        s.jpeg(r, 300, 300), s.jpeg_segment(0xFE, b"note") + b"garbage"))
    yield _spec("jpeg_bogus_huffman_table", corrupt, _jpeg_with_bogus_huffman_table)
    yield _spec("jpeg_segment_past_end", corrupt,
                lambda r: b"\xff\xd8\xff\xe1\xff\xf0Exif\0\0" + b"\0" * 64)


def _without_segment(data: bytes, marker: int) -> bytes:
    start = s.jpeg_segment_offset(data, marker)
    end = start + 2 + int.from_bytes(data[start + 2:start + 4], "big")
    return data[:start] + data[end:]


def _jpeg_with_two_frame_headers(rng: np.random.Generator) -> bytes:
    data = s.jpeg(rng, 300, 300)
    start = s.jpeg_segment_offset(data, 0xC0)
    end = start + 2 + int.from_bytes(data[start + 2:start + 4], "big")
    return data[:end] + data[start:end] + data[end:]


def _jpeg_with_bogus_huffman_table(rng: np.random.Generator) -> bytes:
    data = bytearray(s.jpeg(rng, 300, 300))
    table = s.jpeg_segment_offset(bytes(data), 0xC4)
    data[table + 5:table + 21] = b"\xff" * 16  # code counts summing far past 256
    return bytes(data)


def _corrupt_pngs() -> Iterable[CorpusSpec]:
    corrupt = Code.TRUNCATED_OR_CORRUPT
    yield _spec("png_bad_checksum", corrupt, _png_with_bad_checksum, ".png")
    yield _spec("png_text_before_header", corrupt, lambda r: _png_with_chunks_reordered(
        s.png(r, 300, 300)), ".png")
    yield _spec("png_without_image_data", corrupt, lambda r: s.png_from_chunks(
        s.png_ihdr(300, 300), s.png_chunk(b"IEND", b"")), ".png")
    yield _spec("png_undecodable_image_data", corrupt, lambda r: s.png_from_chunks(
        s.png_ihdr(300, 300), s.png_chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 200),
        s.png_chunk(b"IEND", b"")), ".png")
    yield _spec("png_invalid_colour_type", corrupt, lambda r: s.png_from_chunks(
        s.png_ihdr(300, 300, colour_type=7), s.png_chunk(b"IDAT", zlib.compress(b"\0" * 900)),
        s.png_chunk(b"IEND", b"")), ".png")
    yield _spec("png_zero_width", corrupt, lambda r: s.forged_png(0, 300), ".png")
    yield _spec("png_chunk_length_overflow", corrupt, lambda r: s.png_from_chunks(
        s.png_ihdr(300, 300), b"\x80\0\0\0IDAT" + b"\0" * 32), ".png")
    yield _spec("png_two_headers", corrupt, lambda r: s.insert_png_chunk_after_ihdr(
        s.png(r, 300, 300), s.png_ihdr(300, 300)), ".png")
    yield _spec("png_invalid_chunk_type", corrupt, lambda r: s.insert_png_chunk_after_ihdr(
        s.png(r, 300, 300), s.png_chunk(b"a\0c!", b"")), ".png")


def _png_with_bad_checksum(rng: np.random.Generator) -> bytes:
    data = bytearray(s.png(rng, 300, 300))
    data[-13] ^= 0xFF  # the last IDAT CRC byte, just before the 12-byte IEND chunk
    return bytes(data)


def _png_with_chunks_reordered(data: bytes) -> bytes:
    chunks = [chunk for _, chunk in s.png_chunks(data)]
    return s.PNG_SIGNATURE + s.png_chunk(b"tEXt", b"k\0v") + b"".join(chunks)


def _corrupt_webps() -> Iterable[CorpusSpec]:
    corrupt = Code.TRUNCATED_OR_CORRUPT
    yield _spec("webp_bad_start_code", corrupt, lambda r: _patched(s.webp(r, 300, 300), 23,
                                                                   b"\0\0\0"), ".webp")
    yield _spec("webp_inter_frame", corrupt, lambda r: _patched(s.webp(r, 300, 300), 20,
                                                                b"\x01"), ".webp")
    yield _spec("webp_bad_lossless_signature", corrupt, lambda r: _patched(
        s.webp(r, 300, 300, lossless=True), 20, b"\x00"), ".webp")
    yield _spec("webp_lossless_bad_version", corrupt, lambda r: s.webp_from_chunks(
        s.webp_chunk(b"VP8L", _patched(s.vp8l_header(300, 300), 4, b"\xe0") + b"\0" * 16)),
        ".webp")
    yield _spec("webp_unknown_first_chunk", corrupt, lambda r: s.webp_from_chunks(
        s.webp_chunk(b"JUNK", b"\0" * 16), s.webp_first_chunk(s.webp(r, 300, 300))), ".webp")
    yield _spec("webp_without_image_data", corrupt, lambda r: s.webp_from_chunks(
        s.vp8x_chunk(300, 300), s.webp_chunk(b"EXIF", b"\0" * 16)), ".webp")
    yield _spec("webp_chunk_past_container", corrupt, lambda r: _webp_with_short_riff(
        s.webp(r, 300, 300)), ".webp")
    yield _spec("webp_undecodable_lossless_data", corrupt, lambda r: s.webp_from_chunks(
        s.webp_chunk(b"VP8L", s.vp8l_header(300, 300) + b"\xff" * 64)), ".webp")
    yield _spec("webp_zero_width", corrupt, lambda r: _patched(s.webp(r, 300, 300), 26,
                                                               b"\0\0"), ".webp")


def _patched(data: bytes, offset: int, replacement: bytes) -> bytes:
    return data[:offset] + replacement + data[offset + len(replacement):]


def _webp_with_short_riff(data: bytes) -> bytes:
    # The container ends 2 bytes after the first chunk's header, inside its payload.
    return s.with_riff_size(data, 4 + 8 + 2)


# Refused by declared size -------------------------------------------------------------------

def _declared_sizes() -> Iterable[CorpusSpec]:
    too_large, too_many = Code.DIMENSIONS_TOO_LARGE, Code.TOO_MANY_PIXELS
    bomb, small = Code.DECOMPRESSION_BOMB, Code.TOO_SMALL
    yield _spec("png_forged_100000x100000", too_large, lambda r: s.forged_png(100_000, 100_000),
                ".png")
    yield _spec("png_forged_wide_strip", too_large, lambda r: s.forged_png(100_000, 300), ".png")
    yield _spec("png_zeros_20000x20000", too_large, lambda r: s.zero_filled_png(20_000, 20_000),
                ".png")
    yield _spec("jpeg_forged_65000x65000", too_large, lambda r: s.with_jpeg_dimensions(
        s.jpeg(r, 64, 64), 65_000, 65_000))
    yield _spec("jpeg_forged_13000x400", too_large, lambda r: s.with_jpeg_dimensions(
        s.jpeg(r, 64, 64), 13_000, 400))
    yield _spec("webp_forged_canvas_20000x20000", too_large, lambda r: s.webp_from_chunks(
        s.vp8x_chunk(20_000, 20_000), s.webp_first_chunk(s.webp(r, 64, 64))), ".webp")
    yield _spec("webp_forged_lossless_16384x16384", too_large, lambda r: s.webp_from_chunks(
        s.webp_chunk(b"VP8L", s.vp8l_header(16_384, 16_384) + b"\0" * 16)), ".webp")
    yield _spec("webp_forged_lossy_16000x300", too_large, lambda r: _patched(
        s.webp(r, 64, 64), 26, (16_000).to_bytes(2, "little") + (300).to_bytes(2, "little")),
        ".webp")
    yield _spec("png_forged_10000x10000", too_many, lambda r: s.forged_png(10_000, 10_000),
                ".png")
    yield _spec("png_zeros_8000x8000", too_many, lambda r: s.zero_filled_png(8000, 8000), ".png")
    yield _spec("jpeg_forged_9000x9000", too_many, lambda r: s.with_jpeg_dimensions(
        s.jpeg(r, 64, 64), 9000, 9000))
    yield _spec("webp_forged_lossless_8000x8000", too_many, lambda r: s.webp_from_chunks(
        s.webp_chunk(b"VP8L", s.vp8l_header(8000, 8000) + b"\0" * 16)), ".webp")
    yield _spec("webp_forged_canvas_11000x5000", too_many, lambda r: s.webp_from_chunks(
        s.vp8x_chunk(11_000, 5000), s.webp_first_chunk(s.webp(r, 64, 64))), ".webp")
    yield _spec("png_zeros_5000x5000_grey", bomb,
                lambda r: s.zero_filled_png(5000, 5000, bit_depth=8), ".png")
    yield _spec("png_zeros_7000x7000", bomb, lambda r: s.zero_filled_png(7000, 7000), ".png")
    yield _spec("jpeg_forged_6000x6000", bomb, lambda r: s.with_jpeg_dimensions(
        s.jpeg(r, 64, 64), 6000, 6000))
    yield _spec("webp_forged_canvas_5000x5000", bomb, lambda r: s.webp_from_chunks(
        s.vp8x_chunk(5000, 5000), s.webp_first_chunk(s.webp(r, 64, 64))), ".webp")
    yield _spec("jpeg_1x1", small, lambda r: s.jpeg(r, 1, 1))
    yield _spec("png_1x1", small, lambda r: s.png(r, 1, 1), ".png")
    yield _spec("webp_1x1", small, lambda r: s.webp(r, 1, 1), ".webp")
    yield _spec("png_favicon_16x16", small, lambda r: s.png(r, 16, 16), ".png")
    yield _spec("jpeg_one_pixel_short", small,
                lambda r: s.jpeg(r, 300, DEFAULT_LIMITS.min_short_side - 1))
    yield _spec("png_one_pixel_narrow", small,
                lambda r: s.png(r, DEFAULT_LIMITS.min_short_side - 1, 300), ".png")
    yield _spec("webp_100x100", small, lambda r: s.webp(r, 100, 100), ".webp")
    yield _spec("jpeg_banner_1000x50", small, lambda r: s.jpeg(r, 1000, 50))
    yield _spec("png_line_1x5000", small, lambda r: s.png(r, 1, 5000), ".png")
    # Size is judged before structure: a broken thumbnail is reported as too small.
    yield _spec("jpeg_truncated_thumbnail", small, lambda r: s.jpeg(r, 100, 100)[:-200])


def _metadata_bombs() -> Iterable[CorpusSpec]:
    bomb = Code.DECOMPRESSION_BOMB
    flood = b"\0" * (8 * DEFAULT_LIMITS.max_metadata_chunk_bytes)
    yield _spec("png_compressed_text_bomb", bomb, lambda r: s.insert_png_chunk_after_ihdr(
        s.png(r, 300, 300), s.compressed_text_chunk(b"Comment", flood)), ".png")
    yield _spec("png_international_text_bomb", bomb, lambda r: s.insert_png_chunk_after_ihdr(
        s.png(r, 300, 300), s.compressed_international_text_chunk(b"XML:com.adobe.xmp", flood)),
        ".png")
    yield _spec("png_colour_profile_bomb", bomb, lambda r: s.insert_png_chunk_after_ihdr(
        s.png(r, 300, 300), s.compressed_profile_chunk(flood)), ".png")


# Refused by what the container holds -------------------------------------------------------

def _animations() -> Iterable[CorpusSpec]:
    animated = Code.ANIMATED_NOT_SUPPORTED
    yield _spec("apng_2_frames", animated, lambda r: s.animation(r, "PNG", 2, 240), ".png")
    yield _spec("apng_3_frames", animated, lambda r: s.animation(r, "PNG", 3, 300), ".png")
    yield _spec("webp_animated_2_frames", animated, lambda r: s.animation(r, "WEBP", 2, 240),
                ".webp")
    yield _spec("webp_animated_lossless", animated, lambda r: s.animation(
        r, "WEBP", 3, 240, lossless=True), ".webp")
    yield _spec("apng_renamed_jpg", animated, lambda r: s.animation(r, "PNG", 2, 256), ".jpg")


def _polyglots() -> Iterable[CorpusSpec]:
    trailing = Code.SUSPICIOUS_TRAILING_DATA
    html = b"<html><body><script>fetch('/api/session')</script></body></html>"
    archive = s.zip_archive("payload.html", html)
    yield _spec("jpeg_plus_zip", trailing, lambda r: s.jpeg(r, 300, 300) + archive)
    yield _spec("jpeg_plus_html", trailing, lambda r: s.jpeg(r, 300, 300) + html)
    yield _spec("jpeg_plus_php", trailing, lambda r: s.jpeg(r, 300, 300)
                + s.other_format("PHP", r))
    yield _spec("jpeg_plus_pdf", trailing, lambda r: s.jpeg(r, 300, 300)
                + s.other_format("PDF", r))
    yield _spec("jpeg_plus_random_bytes", trailing, lambda r: s.jpeg(r, 300, 300)
                + b"\x01" + _random_bytes(r, 300))
    yield _spec("jpeg_gain_map_then_zip", trailing, lambda r: s.jpeg(r, 300, 300)
                + s.jpeg(r, 64, 64) + archive)
    yield _spec("jpeg_plus_broken_second_picture", trailing, lambda r: s.jpeg(r, 300, 300)
                + s.jpeg(r, 64, 64)[:-100])
    yield _spec("jpeg_samsung_trailer_with_html", trailing, lambda r: s.jpeg(r, 300, 300)
                + s.samsung_trailer(html))
    yield _spec("jpeg_video_hiding_zip", trailing, lambda r: s.jpeg(r, 300, 300)
                + s.motion_photo_video(r, extra=archive))
    yield _spec("png_plus_html", trailing, lambda r: s.png(r, 300, 300) + html, ".png")
    yield _spec("png_plus_zip", trailing, lambda r: s.png(r, 300, 300) + archive, ".png")
    yield _spec("png_chunk_after_end", trailing, lambda r: s.png(r, 300, 300)
                + s.png_chunk(b"tEXt", b"k\0v"), ".png")
    yield _spec("webp_plus_html", trailing, lambda r: s.webp(r, 300, 300) + html, ".webp")
    yield _spec("webp_plus_zip", trailing, lambda r: s.webp(r, 300, 300) + archive, ".webp")


def _with_alpha(pixels: np.ndarray) -> Image.Image:
    """RGBA with a fully transparent left third whose hidden colour is pure red."""
    height, width, _ = pixels.shape
    alpha = np.full((height, width), 255, dtype=np.uint8)
    alpha[:, : width // 3] = 0
    alpha[:, width // 3: 2 * width // 3] = 128
    rgb = pixels.copy()
    rgb[:, : width // 3] = (255, 0, 0)
    return Image.fromarray(np.dstack([rgb, alpha]))


def _palette_png_with_transparency(rng: np.random.Generator) -> bytes:
    palette_image = Image.fromarray(s.photo(rng, 300, 300)).convert("P")
    return s.encode(palette_image, "PNG", transparency=0)


_GROUPS: tuple[Callable[[], Iterable[CorpusSpec]], ...] = (
    _accepted_jpegs, _accepted_jpeg_trailers, _accepted_pngs, _accepted_webps, _declared_types,
    _length_and_format, _truncations, _corrupt_jpegs, _corrupt_pngs, _corrupt_webps,
    _declared_sizes, _metadata_bombs, _animations, _polyglots,
)
