"""Recomputing stored trust: count, score, upsert the current row, and append a snapshot
only when what the feed sees changed (so the history is the story of the score, not of
every job run).

    recompute_seller(s, seller_id, cause) / recompute_listing(s, listing_id, cause)
    recompute_sellers(s, ids, cause) / recompute_listings(s, ids, cause)   (batches)
    recompute_all(s, cause, batch_size, progress)  every seller and listing, in batches

Everything is idempotent: running it twice on unchanged data rewrites the same values and
appends nothing.  The caller owns the transaction (`recompute_all` commits per batch so a
long run shows progress and a killed run keeps what it did).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, jobs
from marketplace_core.listings.models import Listing
from trust.types import ItemRisk, SellerTrust
from trust.weights import TrustWeights
from vision.calibration import precision_in_force

from . import counting, pending
from .models import ItemRiskRecord, ItemRiskSnapshot, SellerTrustRecord, SellerTrustSnapshot
from .scoring import score_item, score_seller
from .services import current_weights

CAUSE_MAX = 60
BATCH = 500


def recompute_seller(s: Session, seller_id: int, cause: str) -> SellerTrust | None:
    return recompute_sellers(s, [seller_id], cause).get(seller_id)


def recompute_listing(s: Session, listing_id: int, cause: str) -> ItemRisk | None:
    return recompute_listings(s, [listing_id], cause).get(listing_id)


def recompute_sellers(s: Session, seller_ids: Iterable[int], cause: str,
                      ) -> dict[int, SellerTrust]:
    version, weights = current_weights(s)
    counts = counting.seller_counts(s, seller_ids, weights)
    stored = _stored(s, SellerTrustRecord, SellerTrustRecord.seller_id, counts)
    precision = precision_in_force(s).precision
    results = {}
    for seller_id, seller_counts in counts.items():
        trust = score_seller(seller_id, seller_counts, weights, duplicate_precision=precision)
        _store_seller(s, stored.get(seller_id), trust, asdict(seller_counts), version,
                      cause)
        results[seller_id] = trust
    s.flush()
    return results


def recompute_listings(s: Session, listing_ids: Iterable[int], cause: str,
                       weights: TrustWeights | None = None) -> dict[int, ItemRisk]:
    weights = weights or current_weights(s)[1]
    signals = counting.item_signals(s, listing_ids)
    stored = _stored(s, ItemRiskRecord, ItemRiskRecord.listing_id, signals)
    precision = precision_in_force(s).precision
    results = {}
    for listing_id, item in signals.items():
        risk = score_item(item.listing_id, item.seller_id, status=item.status,
                          authenticated=item.authenticated,
                          counterfeit_verdict=item.counterfeit_verdict,
                          counterfeit_score=item.counterfeit_score,
                          duplicates=item.duplicates, weights=weights,
                          duplicate_precision=precision)
        _store_item(s, stored.get(listing_id), risk, cause)
        results[listing_id] = risk
    s.flush()
    return results


def _stored(s: Session, model, key_column, ids) -> dict:
    if not ids:
        return {}
    return {getattr(row, key_column.key): row
            for row in s.scalars(select(model).where(key_column.in_(list(ids))))}


# --- sellers ----------------------------------------------------------------------------

def _seller_changed(record: SellerTrustRecord | None, trust: SellerTrust) -> bool:
    return record is None or record.score != trust.score or record.tier != trust.tier.value


def _store_seller(s: Session, record: SellerTrustRecord | None, trust: SellerTrust,
                  counts: dict[str, int], version: int, cause: str) -> None:
    now = clock.now()
    if _seller_changed(record, trust):
        s.add(SellerTrustSnapshot(seller_id=trust.seller_id, score=trust.score,
                                  tier=trust.tier.value, parts=dict(trust.parts),
                                  cause=cause[:CAUSE_MAX], computed_at=now))
    values = dict(score=trust.score, tier=trust.tier.value, confidence=trust.confidence,
                  parts=dict(trust.parts), counts=dict(counts), reasons=list(trust.reasons),
                  weights_version=version, computed_at=now)
    _upsert(s, record, SellerTrustRecord, {"seller_id": trust.seller_id}, values)


# --- listings ---------------------------------------------------------------------------

def _item_state(risk: ItemRisk) -> tuple:
    return (risk.excluded, risk.exclusion_reason, risk.flagged, risk.flag_confidence,
            risk.authenticated)


def _record_state(record: ItemRiskRecord) -> tuple:
    return (record.excluded, record.exclusion_reason, record.flagged, record.flag_confidence,
            record.authenticated)


def _store_item(s: Session, record: ItemRiskRecord | None, risk: ItemRisk, cause: str) -> None:
    now = clock.now()
    if record is None or _record_state(record) != _item_state(risk):
        s.add(ItemRiskSnapshot(
            listing_id=risk.listing_id, excluded=risk.excluded, flagged=risk.flagged,
            flag_confidence=risk.flag_confidence, cause=cause[:CAUSE_MAX], computed_at=now,
            details={"exclusion_reason": risk.exclusion_reason,
                     "authenticated": risk.authenticated,
                     "counterfeit_score": risk.counterfeit_score,
                     "duplicate_flags": risk.duplicate_flags}))
    values = dict(seller_id=risk.seller_id, excluded=risk.excluded,
                  exclusion_reason=risk.exclusion_reason, flagged=risk.flagged,
                  flag_confidence=risk.flag_confidence, authenticated=risk.authenticated,
                  counterfeit_score=risk.counterfeit_score,
                  duplicate_flags=risk.duplicate_flags, reasons=list(risk.reasons),
                  computed_at=now)
    _upsert(s, record, ItemRiskRecord, {"listing_id": risk.listing_id}, values)


def _upsert(s: Session, record, model, key: dict, values: dict) -> None:
    """Update the row we read, or insert it; two jobs inserting the same new row at once
    (at-least-once delivery) resolve to one row with the later values."""
    if record is not None:
        for name, value in values.items():
            setattr(record, name, value)
        return
    try:
        with s.begin_nested():
            s.add(model(**key, **values))
    except IntegrityError:
        existing = s.get(model, tuple(key.values())[0], populate_existing=True)
        for name, value in values.items():
            setattr(existing, name, value)


# --- everything -------------------------------------------------------------------------

@dataclass
class Progress:
    done: int = 0
    total: int = 0
    stage: str = "sellers"


def recompute_all(s: Session, cause: str, *, batch_size: int = BATCH,
                  progress: Callable[[Progress], None] | None = None) -> Progress:
    """Every seller (anyone who ever listed) and every listing, in id order, committing each
    batch.  Safe to run again or alongside the event jobs: each batch is a recompute, and
    clears the marks it read before computing (a mark made meanwhile stays), so the jobs
    queued for those marks find nothing left to do."""
    seller_total = s.scalar(select(func.count(func.distinct(Listing.seller_id)))) or 0
    listing_total = s.scalar(select(func.count(Listing.id))) or 0
    state = Progress(total=seller_total + listing_total)
    seller_query = select(Listing.seller_id).distinct().order_by(Listing.seller_id)
    for ids in _batches(s, seller_query, Listing.seller_id, batch_size):
        marked = pending.versions_of(s, pending.SELLER, ids)
        recompute_sellers(s, ids, cause)
        cleared = pending.clear_versions(s, pending.SELLER, marked)
        _commit_batch(s, state, len(ids), progress)
        _discard_queued_jobs(pending.SELLER, cleared)
    state.stage = "listings"
    weights = current_weights(s)[1]
    for ids in _batches(s, select(Listing.id).order_by(Listing.id), Listing.id, batch_size):
        marked = pending.versions_of(s, pending.LISTING, ids)
        recompute_listings(s, ids, cause, weights)
        cleared = pending.clear_versions(s, pending.LISTING, marked)
        _commit_batch(s, state, len(ids), progress)
        _discard_queued_jobs(pending.LISTING, cleared)
    return state


def _discard_queued_jobs(subject: str, cleared: list[int]) -> None:
    """The recompute jobs the cleared marks had queued would find nothing to do: a bulk
    recompute after a seed or an import deletes them rather than leave thousands of
    forks to the worker (a mark made since then keeps its subject; the sweep sees it)."""
    jobs.discard_waiting(pending.job_id(subject, subject_id) for subject_id in cleared)


def _batches(s: Session, query, column, size: int):
    after = 0
    while True:
        ids = list(s.scalars(query.where(column > after).limit(size)))
        if not ids:
            return
        yield ids
        after = ids[-1]


def _commit_batch(s: Session, state: Progress, n: int,
                  progress: Callable[[Progress], None] | None) -> None:
    s.commit()
    state.done += n
    if progress is not None:
        progress(state)
