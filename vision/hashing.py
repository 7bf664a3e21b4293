"""Perceptual hashes of one decoded photo, and the border trim that runs before them.

All hashes are packed bit strings (numpy uint8, most significant bit first), so that the
FAISS binary indexes take them as they are and `hamming` compares any two of one kind.

- PDQ: Meta's 256-bit hash and its quality (0-100) from the `pdqhash` reference code.
  Meta's guidance: a match at Hamming distance <= 31, and hashes of quality < 50 ignored.
- pHash: the classic DCT hash (grey 32x32, lowest 8x8 DCT coefficients against their
  median: 64 bits), implemented here with OpenCV so that it is the published algorithm and
  not a library's variant.
- `trim_box`: where the real photo is inside flat padding or screenshot bars, so that the
  hashes and the embedding describe the photo and not its frame.
- `global_hashes` / `hashes_of_jpeg`: the trim box, PDQ and pHash computed at HASH_SIDE
  (about 128 px), where they cost about a millisecond. From a JPEG the small image comes
  straight out of the decoder: libjpeg scales in the DCT domain (1/2, 1/4, 1/8), and for a
  progressive JPEG (what the media intake writes) only the first-pass scans are decoded,
  since the refinement scans only add precision that a 1/8-scale image cannot show. A
  decoded array takes the same route through an area resize by the same factor, so both
  give hashes of one kind (a JPEG's 1/8-scale DC image is its 8x8 block means).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pdqhash

from marketplace_core.media._opencv import cv2

PDQ_BITS = 256
PHASH_BITS = 64
# The global hashes look at 64x64 (PDQ) and 32x32 (pHash) grids: twice that is plenty.
HASH_SIDE = 128
_REDUCTIONS = (8, 4, 2)
_REDUCED_FLAGS = {8: cv2.IMREAD_REDUCED_COLOR_8, 4: cv2.IMREAD_REDUCED_COLOR_4,
                  2: cv2.IMREAD_REDUCED_COLOR_2, 1: cv2.IMREAD_COLOR}
# pdqhash.compute_dihedral returns 8 hashes; this one is the left-right mirror.
_PDQ_DIHEDRAL_MIRROR = 5
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


@dataclass(frozen=True, slots=True)
class PdqHash:
    bits: np.ndarray          # uint8[32], packed
    quality: int              # 0-100; Meta ignores hashes below 50 (flat, featureless)
    mirrored: np.ndarray      # uint8[32]: the PDQ of the left-right mirrored photo


def pdq(image: np.ndarray) -> PdqHash:
    """PDQ of a BGR uint8 image, with its quality and the hash of its mirror image."""
    rgb = cv2.cvtColor(_check_bgr(image), cv2.COLOR_BGR2RGB)
    hashes, quality = pdqhash.compute_dihedral(rgb)
    return PdqHash(bits=np.packbits(hashes[0].astype(np.uint8)), quality=int(quality),
                   mirrored=np.packbits(hashes[_PDQ_DIHEDRAL_MIRROR].astype(np.uint8)))


def phash(image: np.ndarray) -> np.ndarray:
    """The 64-bit DCT pHash (packed uint8[8]) of a BGR or grey uint8 image."""
    grey = image if image.ndim == 2 else cv2.cvtColor(_check_bgr(image), cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    # The DC term is the mean brightness: excluded from the median, as in the original.
    return np.packbits((low > np.median(low[1:])).astype(np.uint8))


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    """Bits that differ between two packed hashes of the same length."""
    if a.shape != b.shape:
        raise ValueError("hashes of different lengths cannot be compared")
    return int(_POPCOUNT[np.bitwise_xor(a, b)].sum())


def hamming_matrix(queries: np.ndarray, items: np.ndarray) -> np.ndarray:
    """All pairwise Hamming distances (int32, len(queries) x len(items)) of packed hashes."""
    out = np.empty((len(queries), len(items)), np.int32)
    for row, query in enumerate(queries):
        out[row] = _POPCOUNT[np.bitwise_xor(items, query)].sum(axis=1, dtype=np.int32)
    return out


# --- border trim ------------------------------------------------------------------------

# A line counts as frame when this share of its pixels is within the tolerance of the
# frame's colour: status-bar text and icons cover less than that, photo content more.
_FRAME_SHARE = 0.9
_FRAME_TOLERANCE = 10
# Real photos carry sensor noise and shading; synthetic frames are flat. A frame line must
# also be this flat (median absolute deviation, grey levels) to be trimmed.
_FRAME_MAX_MAD = 1.5
# Never trim more than this share of a side: a photo of a white shirt on a white sheet is
# not a frame.
_MAX_TRIM = 0.45


def trim_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the photo inside flat padding or screenshot bars;
    the whole image when there is no frame. Slicing image[top:bottom, left:right] trims."""
    grey = cv2.cvtColor(_check_bgr(image), cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    top = _frame_depth(grey, int(h * _MAX_TRIM))
    bottom = h - _frame_depth(grey[::-1], int(h * _MAX_TRIM))
    left = _frame_depth(grey.T, int(w * _MAX_TRIM))
    right = w - _frame_depth(grey.T[::-1], int(w * _MAX_TRIM))
    if bottom - top < h // 4 or right - left < w // 4:
        return 0, h, 0, w
    return top, bottom, left, right


def _frame_depth(grey: np.ndarray, limit: int) -> int:
    """How many leading rows of `grey` are frame: flat rows of the outermost row's colour,
    allowing rows with small marks (status-bar text) in between."""
    colour = int(np.median(grey[0]))
    rows = grey[:limit].astype(np.int16)
    near = np.abs(rows - colour) <= _FRAME_TOLERANCE
    share = near.mean(axis=1)
    mad = np.median(np.abs(rows - colour), axis=1)
    frame = (share >= _FRAME_SHARE) & (mad <= _FRAME_MAX_MAD)
    if not frame[:1].all():
        return 0
    depth = int(np.argmin(frame)) if not frame.all() else len(frame)
    # Screenshot bars: marks (time, icons) interrupt the frame for a few rows; look past
    # a short run of non-frame rows for more frame.
    while depth < len(frame):
        resume = np.flatnonzero(frame[depth:depth + max(4, len(grey) // 20)])
        if not len(resume):
            break
        after = depth + int(resume[0])
        rest = frame[after:]
        depth = after + (int(np.argmin(rest)) if not rest.all() else len(rest))
    return depth


def _check_bgr(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3:
        raise ValueError("expected a BGR uint8 image of shape (height, width, 3)")
    return image


# --- the global hashes at small scale -----------------------------------------------------

@dataclass(frozen=True, slots=True)
class GlobalHashes:
    pdq: PdqHash
    phash: np.ndarray                     # uint8[8], packed
    trim: tuple[int, int, int, int]       # (top, bottom, left, right) in full-size pixels


def reduction_for(width: int, height: int) -> int:
    """The largest decoder scale-down (8, 4, 2 or 1) that keeps the long side >= HASH_SIDE."""
    long_side = max(width, height)
    return next((factor for factor in _REDUCTIONS if long_side // factor >= HASH_SIDE), 1)


def global_hashes(image: np.ndarray) -> GlobalHashes:
    """Trim box, PDQ and pHash of a decoded BGR photo, computed at small scale."""
    height, width = _check_bgr(image).shape[:2]
    factor = reduction_for(width, height)
    small = image if factor == 1 else cv2.resize(
        image, (-(-width // factor), -(-height // factor)), interpolation=cv2.INTER_AREA)
    return _hashes_of_small(small, (width, height))


def hashes_of_jpeg(data: bytes) -> GlobalHashes:
    """`global_hashes` of a JPEG, decoding only what the small scale needs."""
    size = jpeg_size(data)
    if size is None:
        raise ValueError("not a JPEG with a frame header")
    factor = reduction_for(*size)
    first_pass = _first_pass_scans(data) if factor > 1 else None
    small = _decode(first_pass, factor) if first_pass else None
    if small is None:
        small = _decode(data, factor)
    if small is None:
        raise ValueError("JPEG data does not decode")
    return _hashes_of_small(small, size)


def _hashes_of_small(small: np.ndarray, full_size: tuple[int, int]) -> GlobalHashes:
    top, bottom, left, right = trim_box(small)
    crop = np.ascontiguousarray(small[top:bottom, left:right])
    if max(crop.shape[:2]) > HASH_SIDE:
        scale = HASH_SIDE / max(crop.shape[:2])
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)),
                                 max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    return GlobalHashes(pdq=pdq(crop), phash=phash(crop),
                        trim=_full_size_box((top, bottom, left, right), small.shape, full_size))


def _full_size_box(box: tuple[int, int, int, int], small_shape: tuple[int, ...],
                   full_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The small image's trim box in full-size pixels (within a small pixel, about 0.5% of
    the side, of where a full-size trim puts it)."""
    top, bottom, left, right = box
    small_h, small_w = small_shape[:2]
    full_w, full_h = full_size
    sy, sx = full_h / small_h, full_w / small_w
    top = round(top * sy)
    bottom = round(bottom * sy)
    left = round(left * sx)
    right = round(right * sx)
    return top, min(bottom, full_h), left, min(right, full_w)


def _decode(data: bytes, factor: int) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED_FLAGS[factor])


# JPEG markers: a 0xFF followed by anything but a stuffed zero or a restart marker ends a
# scan's entropy-coded data.
_MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_EOI = b"\xff\xd9"


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, or None when there is none."""
    for marker, start, _ in _segments(data):
        if marker in _SOF_MARKERS and start + 9 <= len(data):
            height = int.from_bytes(data[start + 5:start + 7], "big")
            width = int.from_bytes(data[start + 7:start + 9], "big")
            return (width, height) if width and height else None
    return None


def _first_pass_scans(data: bytes) -> bytes | None:
    """A progressive JPEG cut before its first successive-approximation refinement scan
    (every coefficient is then known to a bit or two less precision), or None for a
    baseline JPEG or one this parser does not follow."""
    progressive = False
    for marker, start, _ in _segments(data):
        if marker == 0xC2:
            progressive = True
        elif marker == 0xDA:
            if not progressive:
                return None
            components = data[start + 4]
            if start + 7 + 2 * components >= len(data):
                return None  # a cut-off header: let the decoder judge the whole file
            approximation = data[start + 5 + 2 * components + 2]
            if approximation >> 4:  # Ah > 0: a refinement of what earlier scans sent
                return data[:start] + _EOI
    return None


def _segments(data: bytes):
    """(marker, offset of its 0xFF, offset after it) of each marker segment up to the end
    of the image, stepping over entropy-coded scan data; stops at anything malformed."""
    if data[:2] != b"\xff\xd8":
        return
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return
        if marker in _STANDALONE:
            at += 2
            continue
        end = at + 2 + int.from_bytes(data[at + 2:at + 4], "big")
        yield marker, at, end
        if marker == 0xDA:
            found = _MARKER_AFTER_SCAN.search(data, end)
            if found is None:
                return
            end = found.start()
        at = end
