"""Signatures of a photo and the verification that decides whether two photos are copies.

    from vision.matching import signature_of_photo, signatures_of, verify, MatchThresholds

    sig = signature_of_photo(normalised)          # a NormalisedImage from the media intake
    sig = signature_of_upload(raw_bytes)          # untrusted bytes: intake first, or ImageRejected
    sigs = signatures_of([bgr, bgr, ...])         # batched (the embedding runs in batches)
    result = verify(query_sig, candidate_sig)     # Verification: score, signals, is_duplicate

A `Signature` holds everything matching needs and nothing else (no pixels beyond a 96 px
grey thumbnail and a 32 px colour one): the PDQ and pHash of the photo with any flat frame
trimmed, its EfficientNet-Lite0 embedding, ORB keypoints of the working image, the two
thumbnails, and, for queries, the
same of the mirror image (`with_mirror=True`), so that a flipped copy is found without
storing anything extra in the index.

Retrieval (vision.index) proposes candidates from the cheap global signals; `verify` then
scores each candidate by how well the candidate's pixels explain the query's once aligned
(features.correlation), trying: the identity (resizes, recompressions, colour edits,
blur, noise, watermarks), the similarity transform fitted to the keypoint matches (crops,
padding, rotations, screenshots) and both again on the mirror image (flips). Each
alignment is colour-checked too (features.colour_disagreement): grey correlation cannot
tell the same photo from the same drawn garment in another colour or on another
background, so an alignment whose colours disagree scores -1 whatever its grey score. The
score is the best one found; a pair is a duplicate when it reaches `ncc_threshold`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from marketplace_core.media import NormalisedImage, inspect_and_normalise, to_bgr_array
from marketplace_core.media._opencv import cv2
from vision import embedding, features, hashing
from vision.features import LocalFeatures


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    """The knobs of duplicate matching. Analysts tune these with the benchmark; the
    defaults come from bench/vision_duplicates.py on generated photos
    (docs/BENCHMARKS.md), where they gave precision >= 0.9999.

    - candidates_per_signal: nearest neighbours taken from each global index (PDQ, and
      the embedding) per query view (as is, mirrored); their union is verified.
    - pdq_distance: a PDQ Hamming distance at or under this counts as the "pdq" signal
      (Meta's recommended 31 of 256 bits). Hashes below pdq_min_quality are not trusted.
    - embedding_cosine: cosine at or above this counts as the "embedding" signal.
    - min_inliers: keypoint matches that must agree on one similarity transform before
      that transform is used to align the photos.
    - verify_min_cosine: a view (as is, or mirrored) is only aligned and correlated with a
      candidate when their embedding cosine reaches this: the cheap first filter before
      descriptor matching and RANSAC. Edited copies score 0.66 (heavy blur) to 1.0 on the
      benchmark; two thirds of the other candidates fall below 0.55.
    - max_aspect_change: identity alignment is only tried when the aspect ratios differ
      by less than this (as a log ratio): a crop or a screenshot changes the frame.
    - ncc_threshold: the verified score (aligned grey correlation of an alignment whose
      colours agree, -1..1) at or above which a pair is a duplicate. On generated photos
      the hardest negative whose colours agree (a close-up of another label of the same
      brand: same colours, another serial number) reaches 0.9826; edited copies mostly
      score 0.99 and above.
    - colour_max_disagreement: an alignment's colours agree when at most this share of
      its pixels lie in regions of another colour (features.colour_disagreement).
      Copies reached 0.05 on the benchmark, negatives of another colour 0.57 and more,
      and the same drawn lehenga in another colour in the same room 0.23.
    - grey_only_threshold: the bar for a pair that cannot be colour-checked (a signature
      stored by the previous engine, without a colour thumbnail and with a luma grey
      thumbnail, until a re-index signs it again): grey correlation alone, at the
      previous engine's threshold. Such a pair's
      score is its correlation less (grey_only_threshold - ncc_threshold), so that
      `score >= ncc_threshold` stays the one rule for every consumer of the score.
    """
    candidates_per_signal: int = 10
    pdq_distance: int = 31
    pdq_min_quality: int = 50
    embedding_cosine: float = 0.85
    min_inliers: int = 12
    verify_min_cosine: float = 0.55
    max_aspect_change: float = 0.04
    ncc_threshold: float = 0.983
    colour_max_disagreement: float = 0.12
    grey_only_threshold: float = 0.993

    def __post_init__(self) -> None:
        if self.candidates_per_signal < 1 or self.min_inliers < 3:
            raise ValueError("candidates_per_signal must be >= 1 and min_inliers >= 3")
        if not 0 <= self.pdq_distance <= hashing.PDQ_BITS:
            raise ValueError("pdq_distance must be within 0..256")
        if not all(-1.0 <= value <= 1.0 for value in (
                self.ncc_threshold, self.embedding_cosine, self.verify_min_cosine)):
            raise ValueError("ncc_threshold, embedding_cosine and verify_min_cosine must be "
                             "within -1..1")
        if not 0.0 <= self.colour_max_disagreement <= 1.0:
            raise ValueError("colour_max_disagreement must be within 0..1")
        if not self.ncc_threshold <= self.grey_only_threshold <= 1.0:
            raise ValueError("grey_only_threshold must be within ncc_threshold..1")


DEFAULT_THRESHOLDS = MatchThresholds()


@dataclass(frozen=True, slots=True)
class View:
    """One orientation of a photo (as is, or mirrored) as matching sees it."""
    pdq: np.ndarray                 # packed PDQ bits, uint8[32]
    embedding: np.ndarray           # float32[1280], L2-normalised
    local: LocalFeatures
    thumb: np.ndarray               # uint8 grey, long side features.THUMB_SIDE
    # uint8 BGR, long side features.COLOUR_SIDE; None in signatures stored by the engine
    # before the colour check (judged by grey alone, MatchThresholds.grey_only_threshold).
    colour: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    pdq_quality: int
    phash: np.ndarray               # packed 64-bit pHash, uint8[8], of the trimmed photo
    trim: tuple[int, int, int, int]  # (top, bottom, left, right) in the decoded photo
    size: tuple[int, int]           # (width, height) of the working image
    view: View
    mirrored: View | None = None    # only needed on the query side

    @property
    def pdq(self) -> np.ndarray:
        return self.view.pdq

    @property
    def embedding(self) -> np.ndarray:
        return self.view.embedding

    def without_mirror(self) -> Signature:
        """What an index stores: the mirrored view is only used to query."""
        return Signature(self.pdq_quality, self.phash, self.trim, self.size, self.view, None)


@dataclass(frozen=True, slots=True)
class Verification:
    score: float                    # best colour-checked aligned correlation, -1..1
    is_duplicate: bool
    alignment: str                  # "identity", "keypoints", "mirror_identity", ... or "none"
    signals: dict[str, float] = field(default_factory=dict)


# --- signatures ---------------------------------------------------------------------------

def signature_of_photo(image: NormalisedImage, *, with_mirror: bool = True) -> Signature:
    """Signature of a photo that went through marketplace_core.media's intake."""
    return signatures_of([to_bgr_array(image)], with_mirror=with_mirror)[0]


def signature_of_upload(data: bytes, *, declared_content_type: str | None = None,
                        with_mirror: bool = True) -> Signature:
    """Signature of untrusted bytes: the media intake checks and re-encodes them first and
    raises ImageRejected (with its reason code) for anything it refuses."""
    normalised = inspect_and_normalise(data, declared_content_type=declared_content_type)
    return signature_of_photo(normalised, with_mirror=with_mirror)


def signatures_of(images: list[np.ndarray], *, with_mirror: bool = True) -> list[Signature]:
    """Signatures of decoded BGR uint8 photos (decoded from the intake's normalised JPEG;
    never from an upload), the embeddings computed in one batch."""
    hashed = [hashing.global_hashes(image) for image in images]
    prepared = [_prepare(image, hashes.trim) for image, hashes in zip(images, hashed,
                                                                      strict=True)]
    crops = [crop for crop, _ in prepared]
    batch = crops + ([cv2.flip(crop, 1) for crop in crops] if with_mirror else [])
    vectors = embedding.embed_batch(batch)
    out = []
    for index, (hashes, (crop, grey)) in enumerate(zip(hashed, prepared, strict=True)):
        colour = features.colour_thumbnail(crop)
        thumb = features.thumbnail(features.tone(crop))
        view = View(hashes.pdq.bits, vectors[index], features.orb_features(grey), thumb,
                    colour)
        mirrored = None
        if with_mirror:
            mirrored = View(hashes.pdq.mirrored, vectors[len(crops) + index],
                            features.orb_features(cv2.flip(grey, 1)), cv2.flip(thumb, 1),
                            cv2.flip(colour, 1))
        out.append(Signature(pdq_quality=hashes.pdq.quality, phash=hashes.phash,
                             trim=hashes.trim, size=(grey.shape[1], grey.shape[0]), view=view,
                             mirrored=mirrored))
    return out


def _prepare(image: np.ndarray, trim: tuple[int, int, int, int]
             ) -> tuple[np.ndarray, np.ndarray]:
    """The trimmed photo at most WORK_SIDE on its long side (for the embedding and the
    thumbnails), and its grey working image (for keypoints)."""
    top, bottom, left, right = trim
    crop = np.ascontiguousarray(image[top:bottom, left:right])
    # Everything below works at WORK_SIDE: a 12 MP photo costs what a 0.25 MP one does.
    grey = features.working_grey(crop)
    if max(crop.shape[:2]) > features.WORK_SIDE:
        scale = features.WORK_SIDE / max(crop.shape[:2])
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return crop, grey


# --- verification -------------------------------------------------------------------------

def verify(query: Signature, candidate: Signature,
           thresholds: MatchThresholds = DEFAULT_THRESHOLDS) -> Verification:
    """How sure we are that `query` is a copy of `candidate` (an edited one or not)."""
    best_score, best_alignment = -1.0, "none"
    best_inliers, best_correlation, disagreement = 0, -1.0, None
    views = [("", query.view)] + ([("mirror_", query.mirrored)] if query.mirrored else [])
    for prefix, view in views:
        for name, correlation, inliers, matrix in _alignments(view, query.size, candidate,
                                                              thresholds):
            best_inliers = max(best_inliers, inliers)
            score, share = _colour_checked(view, query.size, candidate, matrix, correlation,
                                           thresholds)
            if correlation > best_correlation:
                best_correlation, disagreement = correlation, share
            if score > best_score:
                best_score, best_alignment = score, prefix + name
            if best_score >= thresholds.ncc_threshold:
                break  # a duplicate already: no other alignment can change the call
        if best_score >= thresholds.ncc_threshold:
            break
    signals = {
        "pdq_distance": float(min(hashing.hamming(v.pdq, candidate.pdq) for _, v in views)),
        "embedding_cosine": float(max(float(v.embedding @ candidate.embedding)
                                      for _, v in views)),
        "inliers": float(best_inliers),
        "correlation": round(best_correlation, 4),
    }
    if disagreement is not None:
        signals["colour_disagreement"] = round(disagreement, 4)
    return Verification(score=best_score, is_duplicate=best_score >= thresholds.ncc_threshold,
                        alignment=best_alignment, signals=signals)


def _colour_checked(view: View, size: tuple[int, int], candidate: Signature,
                    matrix: np.ndarray, correlation: float, thresholds: MatchThresholds
                    ) -> tuple[float, float | None]:
    """(score, share of disagreeing pixels or None) of one alignment: its grey correlation
    when the aligned colours agree, -1.0 when they do not, and the correlation less the
    colour check's margin when either side has no colour thumbnail (an old signature)."""
    if correlation <= -1.0:
        return -1.0, None
    if view.colour is None or candidate.view.colour is None:
        margin = thresholds.grey_only_threshold - thresholds.ncc_threshold
        return max(-1.0, correlation - margin), None
    share = features.colour_disagreement(view.colour, size, candidate.view.colour,
                                         candidate.size, matrix)
    if share is None or share > thresholds.colour_max_disagreement:
        return -1.0, share
    return correlation, share


def _alignments(view: View, size: tuple[int, int], candidate: Signature,
                thresholds: MatchThresholds):
    """(name, correlation, inliers, matrix) for each way of aligning this view on the
    candidate, cheapest first, computed only as they are asked for."""
    if float(view.embedding @ candidate.embedding) < thresholds.verify_min_cosine:
        return
    aspect_change = abs(np.log((size[0] / size[1]) / (candidate.size[0] / candidate.size[1])))
    if aspect_change <= thresholds.max_aspect_change:
        matrix = features.identity_alignment(size, candidate.size)
        yield "identity", features.correlation(view.thumb, size, candidate.view.thumb,
                                               candidate.size, matrix), 0, matrix
    fitted = features.align(view.local, candidate.view.local)
    if fitted is not None and fitted.inliers >= thresholds.min_inliers:
        yield "keypoints", features.correlation(view.thumb, size, candidate.view.thumb,
                                                candidate.size, fitted.matrix), \
            fitted.inliers, fitted.matrix
