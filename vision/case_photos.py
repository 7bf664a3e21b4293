"""The buyer's dispute photos beside the listing's photos as sold, through the engine.

    compare_case(s, case_id)     # what the compare_case_photos job runs (vision.tasks)
    cases_not_compared(s, ...)   # what its sweep catches up on (a lost job)
    comparisons_of(s, case)      # what the dispute workspace shows
    comparisons_signal(s, case)  # the same for the staff API (a case signal, as JSON)

For each photo the buyer added to a case, every photo of the listing as sold (the case's
snapshot, taken from the listing when the case opened: a sold listing's photos no longer
change) is verified against it, and the best pair is stored: which listing photo, the
verification score and signals, and whether it is the same photo (an edited copy
included). A buyer's photo is usually a new shot of the item, not a copy, so "not the same
photo" is the common answer and says little alone; the embedding cosine then tells whether
it at least looks like the same kind of item.

Idempotent: a buyer photo already compared by this engine is skipped, and a second job
comparing the same photo at the same moment keeps the first row.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disputes import evidence
from disputes.models import CasePhoto, DisputeCase, Party
from foundation import clock
from foundation.errors import DomainError
from marketplace_core.listings.photos import store
from marketplace_core.media import inspect_and_normalise, to_bgr_array
from vision.matching import DEFAULT_THRESHOLDS, Signature, Verification, signatures_of, verify
from vision.models import ENGINE_VERSION, CasePhotoComparison, ComparisonState

log = logging.getLogger(__name__)
# The engine's signals a reviewer can read, in the order shown, with their labels.
SHOWN_SIGNALS = (
    ("embedding_cosine", "embedding cosine"),
    ("inliers", "keypoint inliers"),
    ("detail_correlation", "detail correlation"),
    ("colour_delta_e", "colour difference (ΔE)"),
    ("colour_disagreement", "share of pixels in another colour"),
)
SAME_KIND_COSINE = DEFAULT_THRESHOLDS.embedding_cosine


@dataclass(frozen=True)
class ListingPhoto:
    item_index: int
    position: int
    signature: Signature


@dataclass(frozen=True)
class CompareOutcome:
    compared: int = 0
    failed: int = 0
    skipped: int = 0


# --- comparing ----------------------------------------------------------------------------

def compare_case(s: Session, case_id: int) -> CompareOutcome:
    """Compare every buyer photo of the case not yet compared by this engine."""
    case = s.get(DisputeCase, case_id)
    if case is None:
        return CompareOutcome()
    photos = buyer_photos(s, case_id)
    compared = _compared_ids(s, case_id)
    todo = [photo for photo in photos if photo.id not in compared]
    if not todo:
        return CompareOutcome(skipped=len(photos))
    listing = listing_signatures(case)
    rows = [_comparison(photo, listing) for photo in todo]
    stored = sum(_store(s, row) for row in rows)
    failed = sum(row.state == ComparisonState.FAILED for row in rows)
    return CompareOutcome(compared=stored - failed, failed=failed,
                          skipped=len(photos) - stored)


def cases_not_compared(s: Session, *, older_than: timedelta, limit: int) -> list[int]:
    """Cases with a buyer photo that has no comparison, added more than `older_than` ago
    (younger ones still have their job coming): what the sweep catches up on."""
    missing = (select(CasePhoto.case_id)
               .outerjoin(CasePhotoComparison,
                          CasePhotoComparison.case_photo_id == CasePhoto.id)
               .where(CasePhoto.party == Party.BUYER, CasePhotoComparison.case_photo_id.is_(None),
                      CasePhoto.created_at < clock.now() - older_than)
               .group_by(CasePhoto.case_id).order_by(CasePhoto.case_id).limit(limit))
    return list(s.scalars(missing))


def buyer_photos(s: Session, case_id: int) -> list[CasePhoto]:
    return [photo for photo in evidence.photos_of(s, case_id) if photo.party == Party.BUYER]


def listing_signatures(case: DisputeCase) -> list[ListingPhoto]:
    """The signatures of the snapshot's readable photos (an unreadable one is left out)."""
    places, images = [], []
    for item_index, item in enumerate((case.listing_snapshot or {}).get("items", [])):
        for position, key in enumerate(item.get("photos", ())):
            image = decode_stored(key)
            if isinstance(image, np.ndarray):
                places.append((item_index, position))
                images.append(image)
    signatures = signatures_of(images, with_mirror=False) if images else []
    return [ListingPhoto(item, position, signature)
            for (item, position), signature in zip(places, signatures, strict=True)]


def decode_stored(media_key: str) -> np.ndarray | str:
    """The stored photo's pixels through the media intake again (the disk is trusted no
    more than an upload), or the reason code it could not be read."""
    try:
        with store().open(media_key) as handle:
            return to_bgr_array(inspect_and_normalise(handle.read()))
    except DomainError as exc:  # the intake's refusal, or media_not_found
        return exc.code
    except (OSError, ValueError):
        return "unreadable"


def best_match(query: Signature, listing: list[ListingPhoto]
               ) -> tuple[ListingPhoto, Verification]:
    """The listing photo the buyer's photo matches best: a copy first, then the higher
    verified score, then the closer embedding."""
    scored = [(candidate, verify(query, candidate.signature)) for candidate in listing]
    return max(scored, key=lambda pair: (pair[1].is_duplicate, pair[1].score,
                                         pair[1].signals.get("embedding_cosine", -1.0)))


def _comparison(photo: CasePhoto, listing: list[ListingPhoto]) -> CasePhotoComparison:
    row = CasePhotoComparison(case_photo_id=photo.id, case_id=photo.case_id,
                              engine_version=ENGINE_VERSION, computed_at=clock.now(),
                              signals={}, is_duplicate=False)
    if not listing:
        return _failed(row, "no_listing_photos")
    image = decode_stored(photo.media_key)
    if not isinstance(image, np.ndarray):
        return _failed(row, image)
    match, verification = best_match(signatures_of([image])[0], listing)
    row.state = ComparisonState.COMPARED
    row.item_index, row.position = match.item_index, match.position
    row.score = round(float(verification.score), 4)
    row.is_duplicate = bool(verification.is_duplicate)
    row.alignment = verification.alignment
    row.signals = {name: round(float(value), 4) for name, value in verification.signals.items()}
    return row


def _failed(row: CasePhotoComparison, code: str) -> CasePhotoComparison:
    row.state, row.failure_code = ComparisonState.FAILED, code
    return row


def _compared_ids(s: Session, case_id: int) -> set[int]:
    return set(s.scalars(select(CasePhotoComparison.case_photo_id).where(
        CasePhotoComparison.case_id == case_id,
        CasePhotoComparison.engine_version == ENGINE_VERSION)))


def _store(s: Session, row: CasePhotoComparison) -> bool:
    """Insert, or replace a row an older engine wrote; False when another job just wrote
    the same photo's row (it stands)."""
    existing = s.get(CasePhotoComparison, row.case_photo_id)
    if existing is not None:
        if existing.engine_version == ENGINE_VERSION:
            return False
        s.delete(existing)
        s.flush()
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        log.info("case photo %s was compared by another job", row.case_photo_id)
        return False
    return True


# --- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PhotoPair:
    """A buyer's photo and what the engine found for it (None while still comparing)."""
    photo: CasePhoto
    comparison: CasePhotoComparison | None

    @property
    def pending(self) -> bool:
        return self.comparison is None

    @property
    def matched(self) -> bool:
        return self.comparison is not None and self.comparison.state == ComparisonState.COMPARED

    @property
    def same_photo(self) -> bool:
        return self.matched and self.comparison.is_duplicate

    @property
    def same_kind(self) -> bool:
        return self.matched and self.cosine is not None and self.cosine >= SAME_KIND_COSINE

    @property
    def cosine(self) -> float | None:
        return self.comparison.signals.get("embedding_cosine") if self.matched else None

    def shown_signals(self) -> list[tuple[str, float]]:
        """The engine's signals a reviewer can read, those this engine gives."""
        signals = self.comparison.signals if self.matched else {}
        return [(label, signals[name]) for name, label in SHOWN_SIGNALS if name in signals]


@dataclass(frozen=True)
class CaseComparison:
    pairs: tuple[PhotoPair, ...]

    @property
    def pending(self) -> bool:
        return any(pair.pending for pair in self.pairs)

    @property
    def none_matches(self) -> bool:
        """Every buyer photo compared and none is a listing photo."""
        matched = [pair for pair in self.pairs if pair.matched]
        return (bool(matched) and not self.pending
                and not any(pair.same_photo for pair in matched))


def comparisons_of(s: Session, case_id: int) -> CaseComparison:
    """Each buyer photo of the case with its stored comparison, if any (one an older
    engine made is shown until the next comparison replaces it)."""
    rows = {row.case_photo_id: row for row in s.scalars(
        select(CasePhotoComparison).where(CasePhotoComparison.case_id == case_id))}
    return CaseComparison(tuple(PhotoPair(photo, rows.get(photo.id))
                                for photo in buyer_photos(s, case_id)))


def comparisons_signal(s: Session, case_id: int) -> list[dict]:
    """The case signal "photo_comparisons": one entry per buyer photo, in the order the
    buyer added them; `state` is "pending" until the engine has compared it."""
    return [_pair_json(pair) for pair in comparisons_of(s, case_id).pairs]


def _pair_json(pair: PhotoPair) -> dict:
    entry = {"case_photo_id": pair.photo.id, "state": "pending"}
    row = pair.comparison
    if row is None:
        return entry
    entry.update(state=row.state, failure_code=row.failure_code,
                 engine_version=row.engine_version, computed_at=row.computed_at.isoformat())
    if pair.matched:
        entry.update(listing_photo={"item_index": row.item_index, "position": row.position},
                     same_photo=pair.same_photo, same_kind=pair.same_kind, score=row.score,
                     alignment=row.alignment, signals=dict(row.signals))
    return entry
