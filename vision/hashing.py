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
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pdqhash

from marketplace_core.media._opencv import cv2

PDQ_BITS = 256
PHASH_BITS = 64
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
