"""The vision pipeline: sign stored listing photos, keep the duplicate index current and
record duplicate flags.

    sign_photos(s, [photo_id, ...])      # what the photo.stored job runs (vision.tasks)
    forget_photo(s, photo_id)            # a deleted photo leaves the index

For each photo: read the stored bytes from the media store and treat them as untrusted
(the intake checks and re-encodes them again, so a file damaged on disk is refused with
the intake's reason code, never decoded raw), compute the Signature, store it as a row,
add it to the index, query the index, and record a flag for every verified copy of a
photo of another listing. A photo that cannot be signed gets a `failed` row with the
reason; only an unexpected error fails the job.

Idempotent: a photo whose row is current (same bytes, same engine) is skipped, a flag is
recorded once per photo pair, and re-adding a photo to the index replaces it.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import clock, db, jobs
from foundation.errors import DomainError
from marketplace_core.listings.models import Listing, ListingPhoto
from marketplace_core.listings.photos import store
from marketplace_core.media import ImageRejected, MediaNotFound, inspect_and_normalise, to_bgr_array
from vision import duplicates
from vision.catalogue import is_current
from vision.index import Match
from vision.index_store import locked_index
from vision.matching import Signature, signatures_of
from vision.modelops import scoring, services
from vision.models import ENGINE_VERSION, PhotoSignature, SignatureState
from vision.signature_rows import fill_row

log = logging.getLogger(__name__)
MATCHES_PER_PHOTO = 10
CLAIM_SECONDS = 900       # a photo being signed by one worker is left alone by others
FAILURE_MESSAGE_MAX = 300
DuplicateRule = Callable[[Match], bool]


@dataclass
class BatchOutcome:
    signed: int = 0
    failed: int = 0
    skipped: int = 0
    flags: int = 0
    failures: dict[int, str] = field(default_factory=dict)   # photo id -> reason code

    def add(self, other: BatchOutcome) -> None:
        self.signed += other.signed
        self.failed += other.failed
        self.skipped += other.skipped
        self.flags += other.flags
        self.failures.update(other.failures)


class _Phases:
    """How long each step of a batch took, for the log line an operator reads when an
    upload is flagged slowly: decode, signature, rows (and the promoted rule), index_ready
    (the lock and the catch-up), query (adds and verified queries), save (the index's),
    flags (their rows flushed)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self._ms: dict[str, int] = {}

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self._ms[step] = round((now - self._last) * 1000)
        self._last = now

    def __str__(self) -> str:
        return " ".join(f"{step} {ms}" for step, ms in self._ms.items())


@dataclass(frozen=True)
class _Failure:
    code: str
    message: str


def sign_photos(s: Session, photo_ids: list[int], *, recompute: bool = False) -> BatchOutcome:
    """Sign, index and check these photos (those already current are skipped unless
    `recompute`); flushes, the caller commits."""
    outcome = BatchOutcome()
    photos = _photos_to_sign(s, photo_ids, recompute=recompute)
    outcome.skipped = len(set(photo_ids)) - len(photos)
    photos = [p for p in photos if _claim(p.id)]
    if not photos:
        return outcome
    phases = _Phases()
    try:
        signatures, failures = _compute(photos, phases)
        _store_rows(s, photos, signatures, failures)
        rule = promoted_duplicate_rule(s)
        phases.done("rows")
        with locked_index(s) as index:
            phases.done("index_ready")
            for photo in photos:
                if photo.id in signatures:
                    index.add(photo.id, signatures[photo.id])
                elif photo.id in index:
                    index.remove(photo.id)   # its bytes no longer sign: stop matching it
            for photo in photos:
                if photo.id in signatures:
                    outcome.flags += _record_matches(s, index, photo, signatures[photo.id],
                                                    rule)
            phases.done("query")
        phases.done("save")
        s.flush()
        phases.done("flags")
    except BaseException:
        _release(photos)
        raise
    # Held until the rows are visible to other workers, so none signs these again.
    db.after_commit(s, lambda: _release(photos))
    outcome.signed = len(signatures)
    outcome.failed = len(failures)
    outcome.failures = {photo_id: f.code for photo_id, f in failures.items()}
    log.info("signed %d photos (%d flags), ms: %s", outcome.signed, outcome.flags, phases)
    return outcome


def forget_photo(s: Session, photo_id: int) -> bool:
    """Take a deleted photo out of the index; False when it is still a listing photo or
    was never indexed (the job may run twice)."""
    if s.get(ListingPhoto, photo_id) is not None:
        return False
    with locked_index(s) as index:
        if photo_id not in index:
            return False
        index.remove(photo_id)
    return True


# --- steps --------------------------------------------------------------------------------

def _photos_to_sign(s: Session, photo_ids: list[int], *, recompute: bool) -> list[ListingPhoto]:
    if not photo_ids:
        return []
    photos = list(s.scalars(select(ListingPhoto).where(ListingPhoto.id.in_(sorted(set(photo_ids))))
                            .order_by(ListingPhoto.id)))
    rows = {r.photo_id: r for r in s.scalars(select(PhotoSignature).where(
        PhotoSignature.photo_id.in_([p.id for p in photos])))}
    return [p for p in photos if recompute or not is_current(rows.get(p.id), p)]


def _compute(photos: list[ListingPhoto], phases: _Phases
             ) -> tuple[dict[int, Signature], dict[int, _Failure]]:
    decoded: dict[int, np.ndarray] = {}
    failures: dict[int, _Failure] = {}
    for photo in photos:
        result = _decode_stored(photo.media_key)
        if isinstance(result, _Failure):
            failures[photo.id] = result
        else:
            decoded[photo.id] = result
    phases.done("decode")
    signatures: dict[int, Signature] = {}
    if decoded:
        ids = list(decoded)
        try:
            signatures = dict(zip(ids, signatures_of([decoded[i] for i in ids]), strict=True))
        except Exception:  # noqa: BLE001 - one odd photo must not sink its batch: retry alone
            for photo_id in ids:
                result = _sign_one(decoded[photo_id])
                if isinstance(result, _Failure):
                    failures[photo_id] = result
                else:
                    signatures[photo_id] = result
    phases.done("signature")
    return signatures, failures


def _decode_stored(media_key: str) -> np.ndarray | _Failure:
    """The stored photo's pixels, through the intake again: the store is a disk, and what
    is on it is not trusted more than an upload."""
    try:
        with store().open(media_key) as handle:
            data = handle.read()
        return to_bgr_array(inspect_and_normalise(data))
    except ImageRejected as exc:
        return _Failure(exc.code, exc.message)
    except MediaNotFound as exc:
        return _Failure("media_not_found", exc.message)
    except DomainError as exc:
        return _Failure(exc.code, exc.message)
    except (OSError, ValueError) as exc:
        return _Failure("unreadable", f"{type(exc).__name__}: {exc}")


def _sign_one(image: np.ndarray) -> Signature | _Failure:
    try:
        return signatures_of([image])[0]
    except Exception as exc:  # noqa: BLE001 - recorded on the photo's row, the worker lives
        log.exception("signature failed")
        return _Failure("signature_failed", f"{type(exc).__name__}: {exc}")


def _store_rows(s: Session, photos: list[ListingPhoto], signatures: dict[int, Signature],
                failures: dict[int, _Failure]) -> None:
    sellers = {row.id: row.seller_id for row in s.execute(
        select(Listing.id, Listing.seller_id).where(
            Listing.id.in_(sorted({p.listing_id for p in photos}))))}
    for photo in photos:
        row = s.get(PhotoSignature, photo.id) or PhotoSignature(photo_id=photo.id)
        row.listing_id = photo.listing_id
        row.seller_id = sellers[photo.listing_id]
        row.media_key = photo.media_key
        row.computed_at = clock.now()
        row.engine_version = ENGINE_VERSION
        if photo.id in signatures:
            fill_row(row, signatures[photo.id])
            row.state = SignatureState.INDEXED
            row.failure_code = row.failure_message = None
        else:
            failure = failures[photo.id]
            row.state = SignatureState.FAILED
            row.pdq = row.phash = row.embedding = row.details = None
            row.pdq_quality = None
            row.failure_code = failure.code[:40]
            row.failure_message = failure.message[:FAILURE_MESSAGE_MAX]
        s.add(row)
    s.flush()


def _record_matches(s: Session, index, photo: ListingPhoto, signature: Signature,
                    rule: DuplicateRule | None) -> int:
    matches = index.query(signature, k=MATCHES_PER_PHOTO, exclude=photo.id,
                          only_duplicates=rule is None)
    if rule is not None:
        matches = [m for m in matches if rule(m)]
    return sum(duplicates.record_match(s, photo, match) is not None for match in matches)


def promoted_duplicate_rule(s: Session) -> DuplicateRule | None:
    """What makes a verified match a duplicate once analysts have promoted a duplicate
    model: its calibrated probability of the match's score against the threshold they
    chose for it.  None (the engine's own threshold decides) until one is promoted."""
    loaded = scoring.champion_scorer(s, "duplicate")
    if loaded is None:
        return None
    version, scorer = loaded
    threshold = services.threshold_of_version(s, version)
    return lambda match: (match.alignment != "none"
                          and scorer.probability(match.score) >= threshold)


def _claim(photo_id: int) -> bool:
    """Take the photo for this job.  The claim names the RQ job that holds it, so that a
    retry of a job whose work horse was killed mid-batch (RQ runs it again under the same
    id) takes its own photos back instead of leaving them claimed until the claim lapses."""
    key = f"vision:signing:{photo_id}"
    holder = _claim_holder()
    connection = jobs.connection()
    if connection.set(key, holder, nx=True, ex=CLAIM_SECONDS):
        return True
    return holder.startswith("job:") and connection.get(key) == holder.encode()


def _claim_holder() -> str:
    """The running RQ job's id; outside RQ (inline runs) a claim nobody else can reuse."""
    job_id = jobs.current_job_id.get()
    if job_id in ("-", "inline"):
        return f"inline:{secrets.token_hex(8)}"
    return f"job:{job_id}"


def _release(photos: list[ListingPhoto]) -> None:
    if photos:
        jobs.connection().delete(*[f"vision:signing:{p.id}" for p in photos])
