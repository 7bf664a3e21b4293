"""Counting what every package knows about sellers and listings, many at once.

Each count is one GROUP BY over the sellers (or listings) asked for, so a full recompute
over the catalogue costs a dozen queries per batch, not a dozen per seller.  Nothing here
decides what the counts mean: that is `scoring`.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authentication.models import AuthenticationRequest, Strike
from authentication.models import RequestState as AuthState
from disputes.models import CaseState, DisputeCase
from foundation import clock
from foundation.config import current as settings
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order, OrderStatus, Rating
from marketplace_core.shipping.models import Direction, Shipment
from trust.types import SellerCounts
from trust.weights import TrustWeights
from vision.counterfeit.models import CounterfeitScore
from vision.models import DuplicateFlag, FlagStatus

from .scoring import DuplicateEvidence

# Listings whose counterfeit risk still matters to buyers (sold and removed are done).
OPEN_LISTING_STATES = (ListingStatus.LIVE, ListingStatus.PENDING_AUTHENTICATION,
                       ListingStatus.DRAFT)
LOST_CASE_STATES = (CaseState.CLOSED_REFUNDED, CaseState.CLOSED_SPLIT)


def seller_counts(s: Session, seller_ids: Iterable[int],
                  weights: TrustWeights) -> dict[int, SellerCounts]:
    """The counted history of each seller that exists (unknown ids are left out)."""
    ids = sorted(set(seller_ids))
    if not ids:
        return {}
    created = dict(s.execute(select(Member.id, Member.created_at).where(Member.id.in_(ids))).all())
    fields: dict[str, dict[int, int]] = {
        "orders": _grouped(s, Order.seller_id, ids),
        "completed_orders": _grouped(s, Order.seller_id, ids,
                                     Order.status == OrderStatus.COMPLETED),
        "cancellations": _seller_cancellations(s, ids),
        "late_shipments": _late_shipments(s, ids),
        "cases_lost": _grouped(s, DisputeCase.seller_id, ids,
                               DisputeCase.state.in_(LOST_CASE_STATES)),
        "counterfeit_verdicts": _grouped(s, AuthenticationRequest.seller_id, ids,
                                         AuthenticationRequest.state
                                         == AuthState.CLOSED_COUNTERFEIT),
        "authentic_verdicts": _grouped(s, AuthenticationRequest.seller_id, ids,
                                       AuthenticationRequest.state == AuthState.CLOSED_AUTHENTIC),
        "strikes": _grouped(s, Strike.seller_id, ids),
        "counterfeit_flags": _counterfeit_flags(s, ids, weights.counterfeit_flag_score),
        "duplicate_flags": _duplicate_flags(s, ids, FlagStatus.CONFIRMED),
        "open_duplicate_flags": _duplicate_flags(s, ids, FlagStatus.OPEN),
    }
    ratings = {row.seller_id: (row.n, row.total) for row in s.execute(
        select(Rating.seller_id, func.count().label("n"), func.sum(Rating.stars).label("total"))
        .where(Rating.seller_id.in_(ids)).group_by(Rating.seller_id))}
    now = clock.now()
    return {seller_id: SellerCounts(
        **{name: values.get(seller_id, 0) for name, values in fields.items()},
        ratings=ratings.get(seller_id, (0, 0))[0],
        rating_sum=int(ratings.get(seller_id, (0, 0))[1] or 0),
        account_age_days=max(0, (now - joined).days))
        for seller_id, joined in created.items()}


def _grouped(s: Session, seller_column, ids: Sequence[int], *conditions) -> dict[int, int]:
    return dict(s.execute(select(seller_column, func.count()).where(
        seller_column.in_(ids), *conditions).group_by(seller_column)).all())


def _seller_cancellations(s: Session, ids: Sequence[int]) -> dict[int, int]:
    """Cancellations that are the seller's doing: the system's day-21 cancellation of an
    unshipped order, and a buyer's once the order sat unshipped past the buyer's wait.
    A buyer undoing an accidental purchase in the first hours is not the seller's fault.
    (Cancelled orders are few, so the date test runs here rather than in dialect SQL.)"""
    patience = timedelta(days=settings().ORDER_BUYER_CANCEL_AFTER_DAYS)
    counts: dict[int, int] = defaultdict(int)
    for row in s.execute(select(Order.seller_id, Order.cancelled_by, Order.placed_at,
                                Order.cancelled_at).where(
            Order.seller_id.in_(ids), Order.status == OrderStatus.CANCELLED)):
        waited_too_long = row.cancelled_at is not None \
            and row.cancelled_at - row.placed_at >= patience
        if row.cancelled_by == "system" or waited_too_long:
            counts[row.seller_id] += 1
    return counts


def _late_shipments(s: Session, ids: Sequence[int]) -> dict[int, int]:
    """Labels flagged late on orders that went ahead: an order cancelled for not shipping
    already counts as a cancellation, and one the buyer cancelled was never to ship."""
    return dict(s.execute(
        select(Order.seller_id, func.count()).join(Shipment, Shipment.order_id == Order.id)
        .where(Order.seller_id.in_(ids), Shipment.direction == Direction.OUTBOUND,
               Shipment.late_flagged_at.is_not(None), Order.status != OrderStatus.CANCELLED)
        .group_by(Order.seller_id)).all())


def _counterfeit_flags(s: Session, ids: Sequence[int], at_least: float) -> dict[int, int]:
    return dict(s.execute(
        select(Listing.seller_id, func.count())
        .join(CounterfeitScore, CounterfeitScore.listing_id == Listing.id)
        .where(Listing.seller_id.in_(ids), Listing.status.in_(OPEN_LISTING_STATES),
               CounterfeitScore.score >= at_least)
        .group_by(Listing.seller_id)).all())


def _duplicate_flags(s: Session, ids: Sequence[int], status: FlagStatus) -> dict[int, int]:
    """Flags in `status` on the seller's listings as the suspect (the later copy)."""
    return dict(s.execute(
        select(Listing.seller_id, func.count())
        .join(DuplicateFlag, DuplicateFlag.listing_id == Listing.id)
        .where(Listing.seller_id.in_(ids), DuplicateFlag.status == status)
        .group_by(Listing.seller_id)).all())


# --- items ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemSignals:
    """What the item risk is computed from, for one listing."""
    listing_id: int
    seller_id: int
    status: str
    authenticated: bool
    counterfeit_verdict: bool
    counterfeit_score: float | None
    duplicates: tuple[DuplicateEvidence, ...]


def item_signals(s: Session, listing_ids: Iterable[int]) -> dict[int, ItemSignals]:
    ids = sorted(set(listing_ids))
    if not ids:
        return {}
    listings = s.execute(select(Listing.id, Listing.seller_id, Listing.status,
                                Listing.is_authenticated.label("authenticated"))
                         .where(Listing.id.in_(ids))).all()
    verdicts = set(s.scalars(select(AuthenticationRequest.listing_id).where(
        AuthenticationRequest.listing_id.in_(ids),
        AuthenticationRequest.state == AuthState.CLOSED_COUNTERFEIT)))
    scores = dict(s.execute(select(CounterfeitScore.listing_id, CounterfeitScore.score)
                            .where(CounterfeitScore.listing_id.in_(ids))).all())
    duplicates: dict[int, list[DuplicateEvidence]] = defaultdict(list)
    for row in s.execute(select(DuplicateFlag.listing_id, DuplicateFlag.status,
                                DuplicateFlag.score).where(DuplicateFlag.listing_id.in_(ids))
                         .order_by(DuplicateFlag.id)):
        duplicates[row.listing_id].append(DuplicateEvidence(status=row.status, score=row.score))
    return {row.id: ItemSignals(
        listing_id=row.id, seller_id=row.seller_id, status=row.status,
        authenticated=bool(row.authenticated),
        counterfeit_verdict=row.id in verdicts, counterfeit_score=scores.get(row.id),
        duplicates=tuple(duplicates.get(row.id, ()))) for row in listings}
