"""Signatures of a photo and the verification that decides whether two photos are copies.

    from vision.matching import signature_of_photo, signatures_of, verify, MatchThresholds

    sig = signature_of_photo(normalised)          # a NormalisedImage from the media intake
    sig = signature_of_upload(raw_bytes)          # untrusted bytes: intake first, or ImageRejected
    sigs = signatures_of([bgr, bgr, ...])         # batched (the embedding runs in batches)
    result = verify(query_sig, candidate_sig)     # Verification: score, signals, is_duplicate

A `Signature` holds everything matching needs and nothing else: the PDQ and pHash of the
photo with any flat frame trimmed, its EfficientNet-Lite0 embedding, ORB keypoints of the
working image, a 256 px grey detail thumbnail, a 48 px colour thumbnail (and a 96 px grey
one, derived from the detail thumbnail); for queries (`with_mirror=True`) the same of the
mirror image, so that a flipped copy is found without storing anything extra, and of each
tile of a collage (`parts`).

Retrieval (vision.index) proposes candidates from the cheap global signals; `verify` then
aligns each candidate on the query: the identity (resizes, recompressions, colour edits,
blur, noise, overlays), the similarity transform fitted by RANSAC to the ratio-tested
keypoint matches (crops, padding, rotations, screenshots, collage tiles), both again on
the mirror image. Each alignment is judged by fine detail, not by silhouette (two items of
one kind shot alike share an outline and shading; a copy shares the weave, stitching and
print): the band-pass correlation of the aligned detail thumbnails, tile by tile, and the
CIELAB colour difference of the aligned colour thumbnails (features.aligned_evidence),
combined into one score (combined_score). The score is the best alignment's; a pair is a
duplicate when it reaches `ncc_threshold`. The evidence (inliers, inlier share, detail
correlation, colour delta E, ...) is returned in `Verification.signals`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from marketplace_core.media import NormalisedImage, inspect_and_normalise, to_bgr_array
from marketplace_core.media._opencv import cv2
from vision import embedding, features, hashing
from vision.features import LocalFeatures


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    """The knobs of duplicate matching, and where each default comes from. Analysts tune
    them with the benchmark (bench/vision_duplicates.py, docs/BENCHMARKS.md).

    - candidates_per_signal: nearest neighbours taken from each global index (PDQ, and
      the embedding) per query view (as is, mirrored, each collage tile); their union is
      verified.
    - pdq_distance: a PDQ Hamming distance at or under this counts as the "pdq" signal
      (Meta's recommended 31 of 256 bits). Hashes below pdq_min_quality are not trusted.
    - embedding_cosine: cosine at or above this counts as the "embedding" signal.
    - min_inliers: keypoint matches that must agree on one similarity transform before
      that transform is used to align the photos.
    - verify_min_cosine: a view is only aligned and compared with a candidate when their
      embedding cosine reaches this: the cheap first filter before descriptor matching.
      Edited copies of generated photos scored 0.66 (heavy blur) to 1.0; two thirds of
      the other candidates fall below 0.55.
    - max_aspect_change: identity alignment is only tried when the aspect ratios differ
      by less than this (as a log ratio): a crop or a screenshot changes the frame.
    - reprojection_px: a keypoint match agrees with an alignment when it maps within this
      many working-image pixels (512 px side) of its partner. Tight on purpose: a copy's
      matches agree to a pixel or two, and a loose bound lets RANSAC fit chance matches
      between two items' outlines.
    - ncc_threshold: the verified score (matching.combined_score: the aligned detail
      correlation less the colour penalty, -1..1) at or above which a pair is a
      duplicate. Chosen on real photos (docs/BENCHMARKS.md, "duplicates on real photos"),
      between the classes: among the 952 real CC0 phone photos the best-scoring distinct
      pair is one jacket on one hanger photographed twice (0.468; a re-shoot, not a
      copy), then two hats laid in turn on one carpet (0.385), then 0.094; among 359 real
      items cut out onto one studio backdrop, 0.167; the best alignments of 840 edited
      copies of 40 real photos (21 edits: crops, pads, overlays, collages, JPEG 30, blur)
      scored 0.71 (a 2x1 collage) and 0.81 (a heavy blur) up, each edit's median 0.93
      and above.
    - colour_delta_e_tolerance, colour_delta_e_penalty: the score loses the penalty for
      each unit of median CIELAB delta E over the tolerance. Edited copies of real photos
      stayed within 4.2 (crops, overlays, gamma 0.6 after the fitted gamma); different
      items of one kind differ by 8 and more, but their detail already scores them low:
      the penalty only decides a pair whose detail agrees.
    - max_recoloured: over this share of the tiles alike in detail in another colour
      (features.aligned_evidence's `recoloured`), the alignment scores -1: the same
      picture with a garment recoloured. The same drawn lehenga in maroon and navy in
      one room: 0.43; all 189 edited copies of real photos: 0.0, generated copies up to
      0.02; on the generated same-pose set (different models drawn with the same
      texture) this bar, against 0.12, cut the falsely flagged photos from 69 to 46.
    - colour_max_disagreement: for a pair with a signature from an earlier engine, the
      share of pixels in regions of another colour (features.colour_disagreement) over
      which its alignment scores -1: copies of generated photos reached 0.05, the drawn
      lehenga in another colour 0.23.
    - grey_only_threshold: the bar for a pair with a signature stored before the detail
      thumbnail (until a re-index signs it again): the grey correlation of the small
      thumbnails, colour-checked where both have colour, at the stricter bar the engine
      used for pairs without colour. Such a pair's score is its correlation less
      (grey_only_threshold - ncc_threshold), so that `score >= ncc_threshold` stays the one
      rule for every consumer of the score.
    """
    candidates_per_signal: int = 10
    pdq_distance: int = 31
    pdq_min_quality: int = 50
    embedding_cosine: float = 0.85
    min_inliers: int = 12
    verify_min_cosine: float = 0.55
    max_aspect_change: float = 0.04
    ncc_threshold: float = 0.65
    reprojection_px: float = 3.0
    colour_delta_e_tolerance: float = 6.0
    colour_delta_e_penalty: float = 0.1
    max_recoloured: float = 0.05
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
        if self.reprojection_px <= 0 or self.colour_delta_e_tolerance < 0 \
                or self.colour_delta_e_penalty < 0:
            raise ValueError("reprojection_px must be positive, and the colour tolerance "
                             "and penalty non-negative")
        if not 0.0 <= self.colour_max_disagreement <= 1.0 \
                or not 0.0 <= self.max_recoloured <= 1.0:
            raise ValueError("colour_max_disagreement and max_recoloured must be within 0..1")
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
    # uint8 grey, long side features.DETAIL_SIDE; None in signatures stored before the
    # detail check (judged conservatively, MatchThresholds.grey_only_threshold).
    detail: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    pdq_quality: int
    phash: np.ndarray               # packed 64-bit pHash, uint8[8], of the trimmed photo
    trim: tuple[int, int, int, int]  # (top, bottom, left, right) in the decoded photo
    size: tuple[int, int]           # (width, height) of the working image
    view: View
    mirrored: View | None = None    # only needed on the query side
    # The tiles of a collage, each signed as a photo of its own (query side only).
    parts: tuple[Signature, ...] = ()

    @property
    def pdq(self) -> np.ndarray:
        return self.view.pdq

    @property
    def embedding(self) -> np.ndarray:
        return self.view.embedding

    def without_mirror(self) -> Signature:
        """What an index stores: the mirrored view and the parts are only used to query."""
        return Signature(self.pdq_quality, self.phash, self.trim, self.size, self.view, None)


@dataclass(frozen=True, slots=True)
class Verification:
    score: float                    # combined_score of the deciding alignment, -1..1
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
    never from an upload), the embeddings computed in one batch. A query's signature
    (with_mirror) of a collage carries the signatures of its tiles as `parts`."""
    signed = _signatures(images, with_mirror=with_mirror)
    if not with_mirror:
        return signed
    tiles = [[image[top:bottom, left:right] for top, bottom, left, right in
              features.collage_tiles(image)] for image in images]
    flat = [tile for image_tiles in tiles for tile in image_tiles]
    if not flat:
        return signed
    parts = iter(_signatures(flat, with_mirror=True))
    return [dataclasses.replace(signature, parts=tuple(next(parts) for _ in image_tiles))
            if image_tiles else signature
            for signature, image_tiles in zip(signed, tiles, strict=True)]


def _signatures(images: list[np.ndarray], *, with_mirror: bool) -> list[Signature]:
    hashed = [hashing.global_hashes(image) for image in images]
    prepared = [_prepare(image, hashes.trim) for image, hashes in zip(images, hashed,
                                                                      strict=True)]
    crops = [crop for crop, _ in prepared]
    batch = crops + ([cv2.flip(crop, 1) for crop in crops] if with_mirror else [])
    vectors = embedding.embed_batch(batch)
    out = []
    for index, (hashes, (crop, grey)) in enumerate(zip(hashed, prepared, strict=True)):
        colour = features.colour_thumbnail(crop)
        toned = features.tone(crop)
        thumb = features.thumbnail(toned)
        detail = _as_stored(features.detail_thumbnail(toned))
        view = View(hashes.pdq.bits, vectors[index], features.orb_features(grey), thumb,
                    colour, detail)
        mirrored = None
        if with_mirror:
            mirrored = View(hashes.pdq.mirrored, vectors[len(crops) + index],
                            features.orb_features(cv2.flip(grey, 1)), cv2.flip(thumb, 1),
                            cv2.flip(colour, 1), cv2.flip(detail, 1))
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


# --- storage ------------------------------------------------------------------------------

# The detail thumbnail is stored as a JPEG of this quality: a fifth of its raw 48-64 KB, and
# what the band-pass keeps of it is unchanged to within 0.01 of correlation.
_DETAIL_JPEG_QUALITY = 92


def _encoded_detail(detail: np.ndarray) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", detail, [cv2.IMWRITE_JPEG_QUALITY, _DETAIL_JPEG_QUALITY])
    if not ok:
        raise ValueError("the detail thumbnail could not be encoded")
    return encoded.reshape(-1)


def _as_stored(detail: np.ndarray) -> np.ndarray:
    """The detail thumbnail as it reads back from storage, so that a fresh signature and a
    stored one verify alike."""
    return cv2.imdecode(_encoded_detail(detail), cv2.IMREAD_GRAYSCALE)


def stored_arrays(signature: Signature) -> dict[str, np.ndarray]:
    """What verification needs of a signature's view, as named arrays for an npz archive
    (the index's item files and the database rows). The grey thumbnail is not stored when
    the detail thumbnail is: it is derived from it on reading."""
    view = signature.view
    arrays = {"trim": np.array(signature.trim, np.int32),
              "size": np.array(signature.size, np.int32),
              "points": view.local.points, "descriptors": view.local.descriptors}
    if view.colour is not None:
        arrays["colour"] = view.colour
    if view.detail is None:
        arrays["thumb"] = view.thumb
    else:
        arrays["detail_jpeg"] = _encoded_detail(view.detail)
    return arrays


def view_of_arrays(arrays, pdq: np.ndarray, vector: np.ndarray) -> tuple[View, tuple, tuple]:
    """(view, trim, size) from stored_arrays' archive (or an older engine's, which has a
    grey thumbnail and maybe no colour and no detail thumbnail)."""
    size = (int(arrays["size"][0]), int(arrays["size"][1]))
    files = set(arrays.files)
    detail = None
    if "detail_jpeg" in files:
        detail = cv2.imdecode(np.asarray(arrays["detail_jpeg"], np.uint8),
                              cv2.IMREAD_GRAYSCALE)
        if detail is None:
            raise ValueError("the stored detail thumbnail does not decode")
    thumb = arrays["thumb"] if "thumb" in files else features.thumbnail(detail)
    view = View(pdq=pdq, embedding=vector,
                local=LocalFeatures(arrays["points"], arrays["descriptors"], size),
                thumb=thumb, colour=arrays["colour"] if "colour" in files else None,
                detail=detail)
    return view, tuple(int(v) for v in arrays["trim"]), size


# --- verification -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Candidate:
    """One alignment of one query view on the candidate, with its evidence."""
    score: float
    alignment: str
    inliers: int
    inlier_share: float
    detail: float
    delta_e: float | None
    matrix: np.ndarray
    recoloured: float | None = None
    centre: float | None = None


def verify(query: Signature, candidate: Signature,
           thresholds: MatchThresholds = DEFAULT_THRESHOLDS) -> Verification:
    """How sure we are that `query` is a copy of `candidate` (an edited one or not)."""
    views = _query_views(query)
    legacy = candidate.view.detail is None or query.view.detail is None
    best: _Candidate | None = None
    best_view, best_size = query.view, query.size
    for prefix, view, size in views:
        if float(view.embedding @ candidate.embedding) < thresholds.verify_min_cosine:
            continue
        # Every alignment of this view is scored, so that a duplicate's score and evidence
        # are its best alignment's (the identity alignment of a padded copy is a few
        # pixels off; its keypoint alignment is exact); other views cannot change the call.
        for found in _aligned(view, size, candidate, thresholds, legacy):
            found = dataclasses.replace(found, alignment=prefix + found.alignment)
            if best is None or found.score > best.score:
                best, best_view, best_size = found, view, size
        if best is not None and best.score >= thresholds.ncc_threshold:
            break
    signals = {
        "pdq_distance": float(min(hashing.hamming(v.pdq, candidate.pdq)
                                  for _, v, _ in views)),
        "embedding_cosine": round(max(float(v.embedding @ candidate.embedding)
                                      for _, v, _ in views), 4),
        "inliers": float(best.inliers if best else 0),
        "inlier_share": round(best.inlier_share if best else 0.0, 4),
        "correlation": round(_grey_correlation(best_view, best_size, candidate, best), 4),
    }
    if best is not None and not legacy:
        signals["detail_correlation"] = round(best.detail, 4)
    if best is not None and best.delta_e is not None:
        signals["colour_delta_e"] = round(best.delta_e, 2)
    if best is not None and best.recoloured is not None:
        signals["colour_disagreement"] = round(best.recoloured, 4)
    if best is not None and best.centre is not None:
        signals["centre_detail_correlation"] = round(best.centre, 4)
    score = best.score if best is not None else -1.0
    return Verification(score=round(score, 6), is_duplicate=score >= thresholds.ncc_threshold,
                        alignment=best.alignment if score > -1.0 else "none",
                        signals=signals)


def _query_views(query: Signature) -> list[tuple[str, View, tuple[int, int]]]:
    """(alignment prefix, view, working size) of every way the query is tried: as is,
    mirrored, and each tile of a collage (as is and mirrored)."""
    views = [("", query.view, query.size)]
    if query.mirrored is not None:
        views.append(("mirror_", query.mirrored, query.size))
    for number, part in enumerate(query.parts, 1):
        views.append((f"tile{number}_", part.view, part.size))
        if part.mirrored is not None:
            views.append((f"tile{number}_mirror_", part.mirrored, part.size))
    return views


def _grey_correlation(view: View, size: tuple[int, int], candidate: Signature,
                      best: _Candidate | None) -> float:
    """The small grey thumbnails' correlation under the best alignment: the silhouette
    and shading that items of one kind shot alike share, shown beside the detail."""
    if best is None:
        return -1.0
    if best.delta_e is None:   # a legacy pair: its detail is this correlation already
        return best.detail
    return features.correlation(view.thumb, size, candidate.view.thumb, candidate.size,
                                best.matrix)


def _aligned(view: View, size: tuple[int, int], candidate: Signature,
             thresholds: MatchThresholds, legacy: bool):
    """Each way of aligning this view on the candidate, scored, cheapest first, computed
    only as they are asked for: the identity (resizes, recompressions, colour edits, blur,
    noise, overlays), then the similarity transform fitted to the keypoint matches (crops,
    padding, rotations, screenshots, collages)."""
    src, dst = features.keypoint_matches(view.local, candidate.view.local)
    keypoints = min(len(view.local.points), len(candidate.view.local.points))
    px = thresholds.reprojection_px
    aspect_change = abs(np.log((size[0] / size[1]) / (candidate.size[0] / candidate.size[1])))
    if aspect_change <= thresholds.max_aspect_change:
        matrix = features.identity_alignment(size, candidate.size)
        inliers = features.agreeing_matches(matrix, src, dst, reprojection_px=px)
        yield _scored("identity", view, size, candidate, matrix, inliers, keypoints,
                      thresholds, legacy)
    fitted = features.fit_similarity(src, dst, reprojection_px=px)
    if fitted is not None and fitted.inliers >= thresholds.min_inliers:
        yield _scored("keypoints", view, size, candidate, fitted.matrix, fitted.inliers,
                      keypoints, thresholds, legacy)


def _scored(name: str, view: View, size: tuple[int, int], candidate: Signature,
            matrix: np.ndarray, inliers: int, keypoints: int, thresholds: MatchThresholds,
            legacy: bool) -> _Candidate:
    share = inliers / keypoints if keypoints else 0.0
    if legacy:
        return _legacy_scored(name, view, size, candidate, matrix, inliers, share,
                              thresholds)
    evidence = features.aligned_evidence(view.detail, view.colour, size,
                                         candidate.view.detail, candidate.view.colour,
                                         candidate.size, matrix)
    return _Candidate(score=combined_score(evidence, thresholds), alignment=name,
                      inliers=inliers, inlier_share=share, detail=evidence.detail,
                      delta_e=evidence.delta_e, recoloured=evidence.recoloured,
                      centre=evidence.centre, matrix=matrix)


def combined_score(evidence: features.AlignedEvidence,
                   thresholds: MatchThresholds = DEFAULT_THRESHOLDS) -> float:
    """The verified score of one alignment (-1..1): its detail correlation (the lower of
    the whole overlap's and the frame centre's, where the item is: another item shot on
    the same patterned floor shares the floor's detail), less colour_delta_e_penalty for
    every unit of median colour difference (CIELAB delta E) past the tolerance that edited
    copies stay within; -1 when the colours cannot be compared or when over max_recoloured
    of the tiles alike in detail are in another colour (the same picture of a garment in
    another colour)."""
    if evidence.delta_e is None or evidence.detail <= -1.0:
        return -1.0
    if (evidence.recoloured or 0.0) > thresholds.max_recoloured:
        return -1.0
    detail = evidence.detail if evidence.centre is None else min(evidence.detail,
                                                                 evidence.centre)
    excess = max(0.0, evidence.delta_e - thresholds.colour_delta_e_tolerance)
    return max(-1.0, detail - excess * thresholds.colour_delta_e_penalty)


def _legacy_scored(name: str, view: View, size: tuple[int, int], candidate: Signature,
                   matrix: np.ndarray, inliers: int, share: float,
                   thresholds: MatchThresholds) -> _Candidate:
    """A pair with a signature signed before the detail check (no detail thumbnail): the
    grey correlation of the small thumbnails (colour-checked where both have colour),
    shifted so that it reaches ncc_threshold only at grey_only_threshold."""
    correlation = features.correlation(view.thumb, size, candidate.view.thumb,
                                       candidate.size, matrix)
    margin = thresholds.grey_only_threshold - thresholds.ncc_threshold
    score = -1.0 if correlation <= -1.0 else max(-1.0, correlation - margin)
    if score > -1.0 and view.colour is not None and candidate.view.colour is not None:
        share_off = features.colour_disagreement(view.colour, size, candidate.view.colour,
                                                 candidate.size, matrix)
        if share_off is None or share_off > thresholds.colour_max_disagreement:
            score = -1.0
    return _Candidate(score=score, alignment=name, inliers=inliers, inlier_share=share,
                      detail=correlation, delta_e=None, matrix=matrix)
