"""Local features and the evidence that makes a duplicate call near-certain.

1. Geometric: ORB keypoints matched by descriptor (Lowe's ratio test), then a RANSAC fit of
   a similarity transform (rotation, uniform scale, translation: what resizing, cropping,
   padding, straightening, screenshots and collages do to a photo) within a tight
   reprojection error, and its inliers (`keypoint_matches`, `fit_similarity`,
   `agreeing_matches`).
2. Fine detail and colour once aligned (`aligned_evidence`): the band-pass of the detail
   thumbnails correlated tile by tile (a copy shares texture, stitching and print; two
   items of one kind shot alike share only an outline and shading), and the CIELAB colour
   difference after one fitted gamma.
3. For signatures from an earlier engine, the grey correlation of small thumbnails and
   the log-chromaticity colour check (`correlation`, `colour_disagreement`).
4. Collage tiles (`collage_tiles`): a picture split by straight flat gutters.

Coordinates are those of the "working image": the trimmed photo scaled so its long side is
WORK_SIDE pixels, so features of the same photo at any resolution are comparable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketplace_core.media._opencv import cv2

WORK_SIDE = 512
THUMB_SIDE = 96
DETAIL_SIDE = 256
# The colour thumbnail is small on purpose: colour is compared region by region (a
# garment, a background), not edge by edge, and JPEG halves the chroma resolution anyway.
COLOUR_SIDE = 48
# Zero-variance (flat) regions say nothing about identity; under this standard deviation
# (grey levels) the correlation is not computed.
_MIN_STD = 2.0
# Both thumbnails are blurred (Gaussian sigma, thumbnail pixels) before they are compared:
# warping through a fitted transform interpolates, and blurring, the candidate's pixels,
# and edits blur too; equal blur on both sides keeps a copy's correlation near 1.
# On the benchmark this took crop 20% from 0.68 to 1.0 and blur from 0.92 to 1.0.
_COMPARE_BLUR = 1.0
# Grey levels are compared by rank (Spearman's correlation, not Pearson's): a colour edit
# (gamma, curves, brightness) maps grey levels monotonically, which keeps their order but not
# their linear relation. On the benchmark this took gamma from 0.82 to 1.0 and pushed the
# hardest negatives further below the copies.
# The correlation is computed again without the pixels that disagree most (after
# standardising both sides): a watermark, a caption or a frame's edge changes a few pixels a
# lot, while another photo of a similar product differs everywhere a little.
_KEEP_AGREEING = 0.95
# Colour is compared in log space. A gamma edit raises every channel to one power g, which
# multiplies each pixel's log intensities (log(x/255) per channel) by g; a colour of the
# garment or the background that is not in the other photo cannot be explained that way.
# So one g is fitted (least squares) to all the aligned pixels' log intensities, and each
# pixel is then judged on its log-chromaticity, (log R - log G, log B - log G), which g
# scales too: a pixel disagrees when what the fitted g leaves of it is over
# _PIXEL_DISAGREES of its chromaticity's length (at least _CHROMA_FLOOR, so that the noise
# of near-grey pixels is not a change of hue). Only regions count: a disagreeing pixel
# whose 3x3 neighbourhood does not all disagree is the seam that a slightly misaligned
# edge, a crop's resampling or JPEG's chroma leaves, not another colour.
# On the benchmark (every edit, seed 7) copies had at most 5% of their pixels in such
# regions; the hardest negatives of another colour had 57% and more, and the same drawn
# lehenga in another colour in the same room 23-26% (tests/vision/test_matching.py).
_CHROMA_FLOOR = 0.1
_PIXEL_DISAGREES = 0.4
_GAMMA_RANGE = (0.5, 2.0)
# `tone` adds this to every channel before its logs: without it a channel near 0 (a
# saturated colour) swings the geometric mean, and noise on dark pixels with it.
_TONE_OFFSET = 16.0
_TONE_LOGS = np.log(np.arange(256, dtype=np.float32) + _TONE_OFFSET).reshape(1, 256)
_CHANNEL_MEAN = np.full((1, 3), 1 / 3, np.float32)


@dataclass(frozen=True, slots=True)
class LocalFeatures:
    points: np.ndarray        # float32 (n, 2): x, y in working-image pixels
    descriptors: np.ndarray   # uint8 (n, 32): ORB
    size: tuple[int, int]     # (width, height) of the working image

    @classmethod
    def empty(cls, size: tuple[int, int]) -> LocalFeatures:
        return cls(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), size)


@dataclass(frozen=True, slots=True)
class Alignment:
    """A query-to-candidate transform: 2x3 matrix mapping query working-image points
    onto the candidate's, and the keypoint matches that agree with it."""
    matrix: np.ndarray
    inliers: int
    matches: int


def working_grey(image: np.ndarray) -> np.ndarray:
    """The grey working image: long side WORK_SIDE, area-averaged when shrinking."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape
    scale = WORK_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(grey, size, interpolation=interpolation)


def tone(image: np.ndarray) -> np.ndarray:
    """The geometric mean of a BGR image's channels (uint8): the grey that the thumbnail
    correlation compares. A gamma edit raises every channel to one power, so it raises
    their product, and its cube root, to that power too: a monotonic change of this grey,
    which a rank correlation ignores. Luma (a weighted sum of the channels) is not: under
    a gamma, coloured pixels move against grey ones and the ranks reorder. On the
    benchmark a gamma copy of a saturated pink saree on orange wood correlated at 0.971 in
    luma and 0.999 in this tone."""
    logs = cv2.transform(cv2.LUT(image, _TONE_LOGS), _CHANNEL_MEAN)  # by table: 8x faster
    return np.clip(cv2.exp(logs) - _TONE_OFFSET + 0.5, 0, 255).astype(np.uint8)


def thumbnail(image: np.ndarray) -> np.ndarray:
    """uint8 grey thumbnail (of `tone`), long side THUMB_SIDE, same aspect as the image.

    Grey on purpose: a per-channel colour correlation was tried and lost recall (chroma
    subsampling and colour edits make channels noisier) without removing the hardest
    false matches (the same drawn model in another colour: the colour check's work)."""
    h, w = image.shape[:2]
    scale = THUMB_SIDE / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def colour_thumbnail(image: np.ndarray) -> np.ndarray:
    """uint8 BGR thumbnail, long side COLOUR_SIDE, same aspect as the image: what the
    colour check compares once the photos are aligned."""
    h, w = image.shape[:2]
    scale = COLOUR_SIDE / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def orb_features(grey_work: np.ndarray, max_features: int = 500) -> LocalFeatures:
    """At most max_features ORB keypoints of the working image, strongest first."""
    size = (grey_work.shape[1], grey_work.shape[0])
    orb = cv2.ORB_create(nfeatures=max_features, scaleFactor=1.2, nlevels=8,
                         edgeThreshold=15, patchSize=31, fastThreshold=10)
    keypoints, descriptors = orb.detectAndCompute(grey_work, None)
    if descriptors is None or not keypoints:
        return LocalFeatures.empty(size)
    points = np.array([kp.pt for kp in keypoints], np.float32)
    return LocalFeatures(points, descriptors, size)


def _plausible(matrix: np.ndarray) -> bool:
    """RANSAC on a few chance matches can return a degenerate or absurd transform: no
    edit shrinks or enlarges the photo's content more than 8x between working images."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    return bool(np.isfinite(matrix).all()) and 1 / 8 <= scale <= 8


def identity_alignment(query_size: tuple[int, int], candidate_size: tuple[int, int]
                       ) -> np.ndarray:
    """The transform that maps frame onto frame (for edits that keep the whole photo)."""
    sx = candidate_size[0] / query_size[0]
    sy = candidate_size[1] / query_size[1]
    return np.array([[sx, 0, 0], [0, sy, 0]], np.float64)


def correlation(query_thumb: np.ndarray, query_size: tuple[int, int],
                candidate_thumb: np.ndarray, candidate_size: tuple[int, int],
                matrix: np.ndarray, *, min_overlap: float = 0.3) -> float:
    """Rank correlation of the query thumbnail with the candidate thumbnail warped through
    `matrix` (query working coordinates -> candidate working coordinates), over the part
    of the query the candidate covers, both lightly blurred, without the 5% of pixels that
    disagree most; -1.0 when that part is under min_overlap of either
    photo or is flat."""
    warped = _warped_onto(query_thumb.shape[:2], query_size,
                          cv2.GaussianBlur(candidate_thumb, (0, 0), _COMPARE_BLUR),
                          candidate_size, matrix, min_overlap)
    if warped is None:
        return -1.0
    pixels, valid = warped
    a = _standardised(_ranks(cv2.GaussianBlur(query_thumb, (0, 0), _COMPARE_BLUR)[valid]))
    b = _standardised(_ranks(pixels[valid]))
    if a is None or b is None:
        return -1.0
    residual = np.abs(a - b)
    rank = int(_KEEP_AGREEING * (len(residual) - 1))
    agreeing = residual <= np.partition(residual, rank)[rank]
    a, b = _standardised(a[agreeing], 0.0), _standardised(b[agreeing], 0.0)
    if a is None or b is None:
        return -1.0
    return float((a * b).mean())


def colour_disagreement(query_colour: np.ndarray, query_size: tuple[int, int],
                        candidate_colour: np.ndarray, candidate_size: tuple[int, int],
                        matrix: np.ndarray, *, min_overlap: float = 0.3) -> float | None:
    """The share (0..1) of the query's covered pixels that lie in regions whose colour the
    candidate, aligned through `matrix`, does not explain once a gamma between them is
    allowed for; None when they overlap too little to say."""
    matched = _gamma_matched(query_colour, query_size, candidate_colour, candidate_size,
                             matrix, min_overlap)
    if matched is None:
        return None
    query, candidate, valid = matched
    query, candidate = _chromaticity(query), _chromaticity(candidate)
    length = np.maximum(np.maximum(np.linalg.norm(query, axis=2),
                                   np.linalg.norm(candidate, axis=2)), _CHROMA_FLOOR)
    residual = np.linalg.norm(query - candidate, axis=2) / length
    disagreeing = ((residual > _PIXEL_DISAGREES) & valid).astype(np.uint8)
    regions = cv2.morphologyEx(disagreeing, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return float(regions[valid].mean())


def _gamma_matched(query_colour: np.ndarray, query_size: tuple[int, int],
                   candidate_colour: np.ndarray, candidate_size: tuple[int, int],
                   matrix: np.ndarray, min_overlap: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(the query's log intensities, the aligned candidate's after the one gamma that best
    explains them by the query's, the mask of covered pixels), or None when they overlap
    too little: a gamma or curves edit is not another colour."""
    warped = _warped_onto(query_colour.shape[:2], query_size, candidate_colour,
                          candidate_size, matrix, min_overlap)
    if warped is None:
        return None
    pixels, valid = warped
    query, candidate = _log_intensities(query_colour), _log_intensities(pixels)
    gamma = float((query[valid] * candidate[valid]).sum()
                  / max(float((candidate[valid] ** 2).sum()), 1e-9))
    candidate *= min(max(gamma, _GAMMA_RANGE[0]), _GAMMA_RANGE[1])
    return query, candidate, valid


def _log_intensities(bgr: np.ndarray) -> np.ndarray:
    """log((x + 1) / 256) of each channel (<= 0; 0 is white) as float32."""
    return np.log((bgr.astype(np.float32) + 1.0) / 256.0)


def _chromaticity(logs: np.ndarray) -> np.ndarray:
    """(log R - log G, log B - log G) of each pixel of an (h, w, 3) BGR log image."""
    return np.stack([logs[..., 2] - logs[..., 1], logs[..., 0] - logs[..., 1]], axis=-1)


def _warped_onto(query_shape: tuple[int, int], query_size: tuple[int, int],
                 candidate: np.ndarray, candidate_size: tuple[int, int], matrix: np.ndarray,
                 min_overlap: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The candidate thumbnail (any channels) warped onto a query thumbnail of
    `query_shape` through `matrix`, and the mask of query pixels it covers; None when that
    is under min_overlap of either photo. Thumbnails of any side map through the working
    sizes, so a grey and a colour thumbnail of one photo share the same transform."""
    to_query_thumb = np.diag([query_shape[1] / query_size[0],
                              query_shape[0] / query_size[1], 1.0])
    from_candidate_thumb = np.diag([candidate_size[0] / candidate.shape[1],
                                    candidate_size[1] / candidate.shape[0], 1.0])
    full = to_query_thumb @ np.linalg.inv(np.vstack([matrix, [0, 0, 1]])) @ from_candidate_thumb
    out_size = (query_shape[1], query_shape[0])
    warped = cv2.warpAffine(candidate, full[:2], out_size, flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(np.full(candidate.shape[:2], 255, np.uint8), full[:2], out_size,
                           flags=cv2.INTER_NEAREST)
    # Shrink the mask so interpolated edge pixels (half candidate, half black) don't count.
    valid = cv2.erode(valid, np.ones((3, 3), np.uint8)) > 0
    covered = int(valid.sum())
    scale = abs(np.linalg.det(full[:2, :2]))
    if covered < min_overlap * valid.size or \
            covered < min_overlap * candidate.shape[0] * candidate.shape[1] * scale:
        return None
    return warped, valid


def _ranks(grey: np.ndarray) -> np.ndarray:
    """The rank of each uint8 value among all of them, ties sharing their mean rank."""
    counts = np.bincount(grey, minlength=256)
    mean_rank = np.cumsum(counts) - (counts + 1) / 2
    return mean_rank[grey]


def _standardised(values: np.ndarray, min_std: float = _MIN_STD) -> np.ndarray | None:
    """Zero mean, unit variance (float32); None when flatter than min_std."""
    values = values.astype(np.float32)
    std = float(values.std())
    if std <= min_std or std == 0:
        return None
    return (values - values.mean()) / std


# --- fine detail, perceptual colour, keypoint evidence -------------------------------------

def detail_thumbnail(image: np.ndarray) -> np.ndarray:
    """uint8 grey (of `tone`) thumbnail, long side DETAIL_SIDE: what detail_correlation
    compares once the photos are aligned."""
    h, w = image.shape[:2]
    scale = DETAIL_SIDE / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def keypoint_matches(query: LocalFeatures, candidate: LocalFeatures, *, ratio: float = 0.8
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(query points, candidate points) of the descriptor matches that pass Lowe's ratio
    test, float32 (n, 2) each."""
    empty = np.zeros((0, 2), np.float32)
    if len(query.descriptors) < 2 or len(candidate.descriptors) < 2:
        return empty, empty
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query.descriptors, candidate.descriptors,
                                                     k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < ratio * p[1].distance]
    if not good:
        return empty, empty
    return (query.points[[m.queryIdx for m in good]],
            candidate.points[[m.trainIdx for m in good]])


def fit_similarity(src: np.ndarray, dst: np.ndarray, *, reprojection_px: float
                   ) -> Alignment | None:
    """The similarity transform (query -> candidate) that the most matches agree with,
    within reprojection_px; None when there are too few matches or it is implausible."""
    if len(src) < 3:
        return None
    matrix, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=reprojection_px,
        maxIters=2000, confidence=0.995)
    if matrix is None or not _plausible(matrix):
        return None
    return Alignment(matrix=matrix, inliers=int(mask.sum()), matches=len(src))


def agreeing_matches(matrix: np.ndarray, src: np.ndarray, dst: np.ndarray, *,
                     reprojection_px: float) -> int:
    """How many matches `matrix` maps within reprojection_px of their partner."""
    if not len(src):
        return 0
    mapped = src @ matrix[:, :2].T + matrix[:, 2]
    return int((np.linalg.norm(mapped - dst, axis=1) <= reprojection_px).sum())


# The band of detail_correlation: a difference of Gaussians (DETAIL_SIDE pixels) keeps
# texture, stitching and print, and drops the shading and silhouette that two items of one
# kind shot alike share.
_DETAIL_SIGMAS = (1.0, 3.0)
_DETAIL_TILE = 32
_DETAIL_TILE_COVERED = 0.75
# A tile where both sides' band is flatter than this (grey levels) is plain backdrop.
_DETAIL_MIN_STD = 1.0
_DETAIL_MIN_TILES = 3


@dataclass(frozen=True, slots=True)
class AlignedEvidence:
    """What one alignment of two photos shows (features.aligned_evidence)."""
    detail: float             # median tile correlation of the band-pass, -1..1; -1 if none
    delta_e: float | None     # median CIELAB delta E over the overlap; None if none
    recoloured: float | None  # share of the tiles alike in detail whose colour differs
    centre: float | None = None  # the detail's median over the frame's central tiles


def aligned_evidence(query_detail: np.ndarray, query_colour: np.ndarray,
                     query_size: tuple[int, int], candidate_detail: np.ndarray,
                     candidate_colour: np.ndarray, candidate_size: tuple[int, int],
                     matrix: np.ndarray, *, min_overlap: float = 0.3) -> AlignedEvidence:
    """The candidate aligned onto the query through `matrix` (query working coordinates ->
    candidate working coordinates), compared over the part they share:

    - detail: the median over 32 px tiles of the correlation of the two detail
      thumbnails' band-pass (a difference of Gaussians). Tiles keep a local occlusion (a
      caption, a price banner) from deciding; the median keeps the texture of the whole
      item, not its outline, deciding. Tiles flat on both sides (plain backdrop) are left
      out.
    - delta_e: the median CIELAB colour difference of the colour thumbnails, after the one
      gamma that best explains the candidate's intensities by the query's (a gamma or
      curves edit is not another item).
    - recoloured: among the textured tiles whose detail agrees, the share whose mean
      delta E exceeds _RECOLOURED_DELTA_E: the same picture with a garment in another
      colour. An overlay's tiles do not count (their detail disagrees).
    - centre: the detail's median over the textured tiles in the middle of the query's
      frame (_CENTRE_WINDOW of each side), where a listing photo's item is. Two items shot
      in turn on one patterned carpet share the carpet's detail across most tiles and
      differ only there; sellers' overlays (banners, stickers, a handle across the middle)
      cover a minority of its tiles.
      None when fewer than _CENTRE_MIN_TILES textured tiles lie there (a plain centre)."""
    warped = _warped_onto(query_detail.shape[:2], query_size, candidate_detail,
                          candidate_size, matrix, min_overlap)
    if warped is None:
        return AlignedEvidence(-1.0, None, None)
    pixels, valid = warped
    fill = float(pixels[valid].mean())
    a = _band(query_detail.astype(np.float32))
    b = _band(np.where(valid, pixels, fill).astype(np.float32))
    # The band is unreliable within a few pixels of the overlap's edge.
    valid = cv2.erode(valid.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    correlations, textured = _tile_correlations(a, b, valid)
    colour = _delta_e_map(query_colour, query_size, candidate_colour, candidate_size, matrix,
                          min_overlap)
    if colour is None or textured.sum() < _DETAIL_MIN_TILES:
        return AlignedEvidence(-1.0, None if colour is None else colour[2], None)
    delta, colour_valid, median = colour
    shape = (query_detail.shape[1], query_detail.shape[0])
    full = cv2.resize(np.where(colour_valid, delta, 0).astype(np.float32), shape,
                      interpolation=cv2.INTER_NEAREST)
    covered = cv2.resize(colour_valid.astype(np.float32), shape,
                         interpolation=cv2.INTER_NEAREST)
    tile_delta = _tiles(full).sum(axis=1) / np.maximum(_tiles(covered).sum(axis=1), 1)
    alike = textured & (correlations >= _ALIKE_TILE)
    recoloured = float((tile_delta[alike] > _RECOLOURED_DELTA_E).mean()) if alike.any() \
        else 0.0
    return AlignedEvidence(float(np.median(correlations[textured])), median, recoloured,
                           _centre_detail(correlations, textured, query_detail.shape[:2]))


# The middle of the frame (this share of each side) holds the item of a listing photo.
# Wide enough that a shop's handle written across the middle covers a minority of its
# tiles (at 0.4 a watermarked copy of a real photo scored 0.63, at 0.6 0.92), narrow
# enough that a floor shared by two items stays out of most of them (two hats on one
# carpet: 0.13 at 0.4, 0.39 at 0.6; a copy's worst edit, a heavy blur, 0.81).
_CENTRE_WINDOW = 0.6
_CENTRE_MIN_TILES = 2


def _centre_detail(correlations: np.ndarray, textured: np.ndarray,
                   shape: tuple[int, int]) -> float | None:
    t = _DETAIL_TILE
    rows, cols = shape[0] // t, shape[1] // t
    y = (np.arange(rows) + 0.5) * t / shape[0]
    x = (np.arange(cols) + 0.5) * t / shape[1]
    low, high = 0.5 - _CENTRE_WINDOW / 2, 0.5 + _CENTRE_WINDOW / 2
    central = np.outer((y >= low) & (y <= high), (x >= low) & (x <= high)).ravel()
    chosen = central & textured
    if chosen.sum() < _CENTRE_MIN_TILES:
        return None
    return float(np.median(correlations[chosen]))


# A tile's detail "agrees" at this correlation; a tile whose mean colour differs by more
# than this delta E is another colour (copies stay under 6 on the benchmark).
_ALIKE_TILE = 0.5
_RECOLOURED_DELTA_E = 15.0


def _band(grey: np.ndarray) -> np.ndarray:
    fine, coarse = _DETAIL_SIGMAS
    return cv2.GaussianBlur(grey, (0, 0), fine) - cv2.GaussianBlur(grey, (0, 0), coarse)


def _tiles(x: np.ndarray) -> np.ndarray:
    """x's _DETAIL_TILE x _DETAIL_TILE tiles (whole ones only), one row each."""
    t = _DETAIL_TILE
    h, w = (x.shape[0] // t) * t, (x.shape[1] // t) * t
    return x[:h, :w].reshape(h // t, t, w // t, t).swapaxes(1, 2).reshape(-1, t * t)


def _tile_correlations(a: np.ndarray, b: np.ndarray, valid: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(Pearson correlation of a and b within each tile, which tiles are mostly covered
    and textured on at least one side)."""
    t = _DETAIL_TILE
    m = _tiles(valid).astype(np.float32)
    ta, tb = _tiles(a) * m, _tiles(b) * m
    n = m.sum(axis=1)
    keep = n >= _DETAIL_TILE_COVERED * t * t
    n = np.maximum(n, 1)
    mean_a, mean_b = ta.sum(axis=1) / n, tb.sum(axis=1) / n
    var_a = (ta * ta).sum(axis=1) / n - mean_a ** 2
    var_b = (tb * tb).sum(axis=1) / n - mean_b ** 2
    cov = (ta * tb).sum(axis=1) / n - mean_a * mean_b
    floor = _DETAIL_MIN_STD ** 2
    keep &= (var_a > floor) | (var_b > floor)
    denominator = np.sqrt(np.maximum(var_a, 1e-3) * np.maximum(var_b, 1e-3))
    return cov / denominator, keep


def _delta_e_map(query_colour: np.ndarray, query_size: tuple[int, int],
                 candidate_colour: np.ndarray, candidate_size: tuple[int, int],
                 matrix: np.ndarray, min_overlap: float
                 ) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(delta E 1976 of each query colour pixel against the aligned candidate after the
    fitted gamma, the mask of covered pixels, their median) or None."""
    matched = _gamma_matched(query_colour, query_size, candidate_colour, candidate_size,
                             matrix, min_overlap)
    if matched is None:
        return None
    query, candidate, valid = matched
    lab_query = cv2.cvtColor(np.exp(query), cv2.COLOR_BGR2Lab)
    lab_candidate = cv2.cvtColor(np.exp(candidate), cv2.COLOR_BGR2Lab)
    delta = np.linalg.norm(lab_query - lab_candidate, axis=2)
    return delta, valid, float(np.median(delta[valid]))


# --- collages -----------------------------------------------------------------------------

# A collage's gutter is a straight line of flat colour across the whole picture: at least
# this share of the line's pixels within _GUTTER_TOLERANCE grey levels of its median.
_GUTTER_SHARE = 0.97
_GUTTER_TOLERANCE = 6
# Each tile must be at least this share of the collage's side: narrower strips are a
# photo's own flat stripes (a shelf, a door frame), not tiles.
_MIN_TILE_SHARE = 0.25


def collage_tiles(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(top, bottom, left, right) of each tile of a grid collage (photos side by side,
    separated by straight flat gutters), or [] when the picture is not one. A copy in a
    collage is found by querying its tile, which the whole collage's global signals
    do not resemble."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    rows = _spans(_flat_lines(grey), grey.shape[0])
    columns = _spans(_flat_lines(grey.T), grey.shape[1])
    if len(rows) * len(columns) < 2:
        return []
    return [(top, bottom, left, right) for top, bottom in rows for left, right in columns]


def _flat_lines(grey: np.ndarray) -> np.ndarray:
    """Which rows of `grey` are flat (a gutter, or flat padding)."""
    rows = grey.astype(np.int16)
    median = np.median(rows, axis=1, keepdims=True)
    return (np.abs(rows - median) <= _GUTTER_TOLERANCE).mean(axis=1) >= _GUTTER_SHARE


def _spans(flat: np.ndarray, length: int) -> list[tuple[int, int]]:
    """The runs of non-flat lines that flat gutters separate, when there are at least two
    and each is a large enough share of the side; else the whole side as one span."""
    content = np.flatnonzero(~flat)
    if not len(content):
        return [(0, length)]
    breaks = np.flatnonzero(np.diff(content) > 1)
    starts = np.concatenate([[content[0]], content[breaks + 1]])
    ends = np.concatenate([content[breaks], [content[-1]]]) + 1
    spans = [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)
             if e - s >= _MIN_TILE_SHARE * length]
    if len(spans) < 2:
        return [(0, length)]
    return spans
