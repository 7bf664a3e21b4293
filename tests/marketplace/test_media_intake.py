"""Intake behaviour beyond the corpus: what normalisation does to the pixels and metadata,
the order of the checks, limits, declared types and the error contract."""
from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from foundation.errors import DomainError
from marketplace_core.media import (
    DEFAULT_LIMITS,
    ImageLimits,
    ImageRejected,
    RejectionCode,
    inspect_and_normalise,
    intake,
    to_bgr_array,
)
from marketplace_core.media import synthetic as s

REPO_ROOT = Path(__file__).resolve().parents[2]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def rejection_code(data: bytes, **kwargs) -> str:
    with pytest.raises(ImageRejected) as rejected:
        inspect_and_normalise(data, **kwargs)
    return rejected.value.code


def decoded(result) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")).astype(int)


def quadrants(width: int = 320, height: int = 240) -> np.ndarray:
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[: height // 2, : width // 2] = (220, 30, 30)
    pixels[: height // 2, width // 2:] = (30, 200, 30)
    pixels[height // 2:, : width // 2] = (30, 30, 220)
    pixels[height // 2:, width // 2:] = (240, 240, 40)
    return pixels


# What a display must do for each EXIF orientation, written independently of Pillow.
DISPLAYED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, k=-1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, k=1),
}


# Metadata -----------------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", sorted(DISPLAYED))
def test_exif_orientation_is_applied_to_the_pixels(orientation):
    source = quadrants()
    data = s.encode(source, "JPEG", quality=95, exif=s.exif_with_gps(orientation))
    result = inspect_and_normalise(data)
    expected = DISPLAYED[orientation](source).astype(int)
    assert (result.height, result.width) == expected.shape[:2]
    assert np.abs(decoded(result) - expected).mean() < 6


def test_orientation_6_turns_a_landscape_photo_upright():
    data = s.encode(s.halves(300, 200, left=(255, 0, 0), right=(0, 0, 255)), "JPEG",
                    exif=s.exif_with_gps(6))
    result = inspect_and_normalise(data)
    pixels = decoded(result)
    assert (result.width, result.height) == (200, 300)
    assert (result.source_width, result.source_height) == (300, 200)
    # A quarter turn clockwise puts the stored left half (red) on top.
    assert pixels[40, 100].tolist() == pytest.approx([255, 0, 0], abs=12)
    assert pixels[260, 100].tolist() == pytest.approx([0, 0, 255], abs=12)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_exif_gps_xmp_comment_and_profile_are_stripped(image_format):
    extra = {"comment": b"my flat, 3rd floor"} if image_format == "JPEG" else {}
    data = s.encode(s.photo(rng(), 320, 240), image_format, exif=s.exif_with_gps(1),
                    xmp=b"<x:xmpmeta>GPS 12.97N 77.59E</x:xmpmeta>",
                    icc_profile=s.srgb_profile(), **extra)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the source has GPS
    result = inspect_and_normalise(data)
    output = Image.open(io.BytesIO(result.data))
    assert not output.getexif()
    assert not output.getexif().get_ifd(0x8825)
    assert {"exif", "xmp", "icc_profile", "comment"}.isdisjoint(output.info)
    for secret in (b"Exif", b"GPS", b"xmpmeta", b"3rd floor", b"ICC_PROFILE"):
        assert secret not in result.data


# Pixels -------------------------------------------------------------------------------------

def test_transparency_is_flattened_on_white_and_hides_nothing():
    pixels = np.zeros((300, 300, 4), dtype=np.uint8)
    pixels[:, :100] = (255, 0, 0, 0)      # red, fully transparent: must not show
    pixels[:, 100:200] = (0, 0, 0, 128)   # black at half opacity: mid grey
    pixels[:, 200:] = (0, 0, 255, 255)    # opaque blue
    result = inspect_and_normalise(s.encode(pixels, "PNG"))
    output = decoded(result)
    assert output[150, 50].tolist() == pytest.approx([255, 255, 255], abs=4)
    assert output[150, 150].tolist() == pytest.approx([127, 127, 127], abs=6)
    assert output[150, 250].tolist() == pytest.approx([0, 0, 255], abs=8)


def test_palette_transparency_is_flattened_on_white():
    palette_image = Image.new("P", (300, 300), 1)
    palette_image.putpalette([255, 0, 0, 0, 128, 0] + [0] * 762)
    palette_image.paste(0, (0, 0, 150, 300))  # index 0 is red, declared transparent
    result = inspect_and_normalise(s.encode(palette_image, "PNG", transparency=0))
    output = decoded(result)
    assert output[150, 50].tolist() == pytest.approx([255, 255, 255], abs=4)
    assert output[150, 250].tolist() == pytest.approx([0, 128, 0], abs=8)


def test_sixteen_bit_grey_is_scaled_not_clipped():
    result = inspect_and_normalise(s.opencv_png(np.full((300, 300), 0x8000, np.uint16)))
    assert decoded(result)[150, 150].tolist() == pytest.approx([128, 128, 128], abs=2)


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (300, 300), (0, 255, 255, 0))  # pure red ink
    result = inspect_and_normalise(s.encode(cmyk, "JPEG", quality=95))
    assert decoded(result)[150, 150].tolist() == pytest.approx([255, 0, 0], abs=12)


@pytest.mark.parametrize(("size", "expected"), [
    ((2600, 1400), (2048, 1103)),
    ((1400, 2600), (1103, 2048)),
    ((2048, 300), (2048, 300)),
    ((640, 480), (640, 480)),
])
def test_long_side_is_capped_keeping_the_aspect_ratio(size, expected):
    result = inspect_and_normalise(s.encode(s.halves(*size, (200, 0, 0), (0, 0, 200)), "PNG"))
    assert (result.width, result.height) == expected
    assert Image.open(io.BytesIO(result.data)).size == expected
    assert (result.source_width, result.source_height) == size


def test_output_size_and_quality_are_configurable():
    data = s.jpeg(rng(), 1200, 900)
    small = inspect_and_normalise(data, limits=ImageLimits(output_max_long_side=512))
    assert (small.width, small.height) == (512, 384)
    rough = inspect_and_normalise(data, limits=ImageLimits(jpeg_quality=40))
    fine = inspect_and_normalise(data, limits=ImageLimits(jpeg_quality=95))
    assert len(rough.data) < len(fine.data)


def test_large_jpeg_is_decoded_at_reduced_scale_with_the_same_result_size(monkeypatch):
    scales = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(image, mode, size):
        scales.append(real_draft(image, mode, size))
        return scales[-1]
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    data = s.encode(s.halves(4400, 3000, (200, 0, 0), (0, 0, 200)), "JPEG")
    result = inspect_and_normalise(data)
    assert (result.width, result.height) == (2048, 1396)
    assert scales and scales[0] is not None  # libjpeg was asked for a 1/2 scale decode
    assert decoded(result)[698, 500].tolist() == pytest.approx([200, 0, 0], abs=12)


def test_normalisation_is_deterministic_and_reports_its_source():
    data = s.webp(rng(), 400, 300)
    first, second = inspect_and_normalise(data), inspect_and_normalise(bytearray(data))
    assert first == second
    assert (first.format, first.source_format) == ("JPEG", "WEBP")
    assert "bytes" in repr(first) and str(first.data[:4]) not in repr(first)


@pytest.mark.parametrize("not_bytes", [10**9, "a photo", None])
def test_data_must_be_a_byte_buffer(not_bytes):
    with pytest.raises(TypeError):
        inspect_and_normalise(not_bytes)


def test_vision_workers_get_a_bgr_array():
    result = inspect_and_normalise(s.encode(s.halves(300, 200, (255, 0, 0), (0, 0, 255)),
                                            "PNG"))
    pixels = to_bgr_array(result)
    assert pixels.shape == (200, 300, 3) and pixels.dtype == np.uint8
    assert pixels[100, 50].tolist() == pytest.approx([0, 0, 255], abs=4)  # red, as BGR


# Order of checks and the header-before-decode guarantee -------------------------------------

@pytest.fixture
def decoding_forbidden(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the image was handed to a decoder")
    monkeypatch.setattr(intake, "decode_and_normalise", refuse)
    monkeypatch.setattr(Image, "open", refuse)


@pytest.mark.parametrize(("build", "code"), [
    (lambda: s.forged_png(100_000, 100_000), RejectionCode.DIMENSIONS_TOO_LARGE),
    (lambda: s.zero_filled_png(20_000, 20_000), RejectionCode.DIMENSIONS_TOO_LARGE),
    (lambda: s.forged_png(10_000, 10_000), RejectionCode.TOO_MANY_PIXELS),
    (lambda: s.zero_filled_png(6000, 6000), RejectionCode.DECOMPRESSION_BOMB),
    (lambda: s.webp_from_chunks(s.vp8x_chunk(16_000, 16_000),
                                s.webp_chunk(b"VP8L", s.vp8l_header(16_000, 16_000))),
     RejectionCode.DIMENSIONS_TOO_LARGE),
    (lambda: s.with_jpeg_dimensions(s.jpeg(rng(), 64, 64), 60_000, 60_000),
     RejectionCode.DIMENSIONS_TOO_LARGE),
    (lambda: s.forged_png(150, 150), RejectionCode.TOO_SMALL),
], ids=["forged-png", "real-bomb-png", "pixels-png", "ratio-png", "forged-webp", "forged-jpeg",
        "small"])
def test_declared_size_is_refused_without_decoding(decoding_forbidden, build, code):
    assert rejection_code(build()) == code


def test_length_is_checked_before_anything_else(decoding_forbidden):
    limits = ImageLimits(max_bytes=1000)
    assert rejection_code(b"\0" * 1001, limits=limits) == RejectionCode.FILE_TOO_LARGE
    assert rejection_code(b"") == RejectionCode.EMPTY_FILE


def test_format_is_judged_before_the_declared_type(decoding_forbidden):
    gif = s.other_format("GIF", rng())
    assert rejection_code(gif, declared_content_type="text/html") == \
        RejectionCode.UNSUPPORTED_FORMAT


def test_pillow_bomb_warning_is_an_error(monkeypatch):
    # Our own limit normally refuses first; lower Pillow's so only its warning can fire.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 60_000)
    assert rejection_code(s.png(rng(), 300, 300)) == RejectionCode.DECOMPRESSION_BOMB
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40_000)  # past twice the limit: an error
    assert rejection_code(s.png(rng(), 300, 300)) == RejectionCode.DECOMPRESSION_BOMB


def test_unexpected_decoder_failures_become_rejections(monkeypatch):
    from marketplace_core.media import normalise

    def explode(*args, **kwargs):
        raise KeyError("a bug deep inside a codec")
    monkeypatch.setattr(normalise, "_flatten_on_white", explode)
    assert rejection_code(s.png(rng(), 300, 300)) == RejectionCode.TRUNCATED_OR_CORRUPT


def test_pixel_limits_follow_the_limits_argument():
    data = s.png(rng(), 400, 300)
    assert rejection_code(data, limits=ImageLimits(max_side=399)) == \
        RejectionCode.DIMENSIONS_TOO_LARGE
    assert rejection_code(data, limits=ImageLimits(max_pixels=100_000)) == \
        RejectionCode.TOO_MANY_PIXELS
    assert rejection_code(data, limits=ImageLimits(min_short_side=301)) == \
        RejectionCode.TOO_SMALL
    assert inspect_and_normalise(data, limits=ImageLimits(min_short_side=300)).width == 400


# Declared content types ---------------------------------------------------------------------

@pytest.mark.parametrize("declared", [
    None, "", "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp",
    "IMAGE/PNG", "image/png; charset=binary", "application/octet-stream",
])
def test_declared_photo_types_never_decide_the_format(declared):
    assert inspect_and_normalise(s.png(rng(), 300, 300),
                                 declared_content_type=declared).source_format == "PNG"


@pytest.mark.parametrize("declared", [
    "text/html", "image/svg+xml", "application/pdf", "application/zip", "image/gif",
    "text/plain", "application/javascript", "video/mp4",
])
def test_photo_declared_as_another_type_is_refused(declared):
    assert rejection_code(s.jpeg(rng(), 300, 300), declared_content_type=declared) == \
        RejectionCode.CONTENT_TYPE_MISMATCH


# The error contract ---------------------------------------------------------------------------

def test_rejections_are_domain_errors_with_http_statuses():
    too_large = ImageRejected(RejectionCode.FILE_TOO_LARGE, "big")
    corrupt = ImageRejected("truncated_or_corrupt", "broken")
    assert isinstance(too_large, DomainError)
    assert (too_large.status, corrupt.status) == (413, 422)
    assert corrupt.to_dict() == {"error": {"code": "truncated_or_corrupt",
                                           "message": "broken", "fields": {}}}
    assert ImageRejected.status == 422  # the class default is untouched by instances
    with pytest.raises(ValueError):
        ImageRejected("not_a_code", "?")


def test_rejections_survive_pickling_for_job_queues():
    copy = pickle.loads(pickle.dumps(ImageRejected(RejectionCode.FILE_TOO_LARGE, "big")))
    assert (copy.code, copy.message, copy.status) == ("file_too_large", "big", 413)


@pytest.mark.parametrize("field", ["max_bytes", "max_side", "max_pixels", "min_short_side",
                                   "output_max_long_side", "max_expansion_ratio"])
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError):
        ImageLimits(**{field: 0})


@pytest.mark.parametrize("quality", [0, 96])
def test_jpeg_quality_must_be_sensible(quality):
    with pytest.raises(ValueError):
        ImageLimits(jpeg_quality=quality)


# OpenCV's own limit -----------------------------------------------------------------------------

def test_opencv_pixel_limit_is_in_the_environment():
    assert 0 < int(os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"]) <= DEFAULT_LIMITS.max_pixels


def test_opencv_imported_after_the_package_refuses_oversized_images(tmp_path):
    # A fresh interpreter, because OpenCV reads the variable once per process.
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(s.zero_filled_png(8000, 8000))
    script = (
        "import sys, numpy, marketplace_core.media, cv2\n"
        "data = numpy.fromfile(sys.argv[1], dtype=numpy.uint8)\n"
        "try:\n    cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)\n"
        "except cv2.error:\n    print('refused')\n"
        "else:\n    print('decoded')\n")
    environment = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    completed = subprocess.run([sys.executable, "-c", script, str(bomb)], cwd=REPO_ROOT,
                               env=environment, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "refused"
