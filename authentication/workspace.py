"""What a reviewer sees: the queue overview and the workspace of one request.

Read-only: the console's pages (and the staff API's detail) render these; every state
change goes through claims and decisions.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from authentication import claims, decisions
from authentication import signals as listing_signals
from authentication.models import (
    CLOSED_STATES,
    AuthenticationRequest,
    RequestEvent,
    RequestState,
    ReviewDecision,
    checklist_for,
)
from foundation import short_cache
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member

R = AuthenticationRequest
REFERENCE_LIMIT = 6
MEDIAN_SAMPLE = 500
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class QueueOverview:
    counts: dict[str, int]                 # open requests per state
    queues: list[str]                      # the queues this reviewer may work
    items: dict[str, list[R]]              # per queue, what claim_next would hand them
    held: list[R]                          # what they hold now
    listings: dict[int, Listing]           # the listings of all of those, by id


@dataclass(frozen=True)
class PriceComparison:
    median: int | None                     # paise; None with nothing to compare
    sample: int
    ratio: float | None


@dataclass(frozen=True)
class SellerHistory:
    member: Member
    requests: list[R]                      # the seller's earlier requests, newest first
    listings: dict[int, Listing]
    strikes: int


@dataclass(frozen=True)
class Workspace:
    request: R
    listing: Listing
    holds_lease: bool                      # the viewer holds it under a live lease
    stage_verdicts: tuple[str, ...]        # what the stage it was claimed for may decide
    checklist: tuple[str, ...]             # the points of the item's category
    references: list[Listing]
    seller: SellerHistory
    price: PriceComparison
    decisions: list[ReviewDecision]
    signals: dict[str, list[dict]]         # what other packages flag on this listing


def queue_overview(s: Session, staff: StaffUser) -> QueueOverview:
    queues = usable_queues(staff)
    items = {name: claims.visible_items(s, staff, name) for name in queues}
    held = claims.held_by(s, staff)
    shown = [r for rows in items.values() for r in rows] + held
    counts = short_cache.remembered("authentication.open_counts", lambda: open_counts(s))
    return QueueOverview(counts=counts, queues=queues, items=items, held=held,
                         listings=listings_by_id(s, [r.listing_id for r in shown]))


def workspace(s: Session, request_id: int, staff: StaffUser) -> Workspace:
    request = claims.get_request(s, request_id)
    listing = s.get(Listing, request.listing_id)
    return Workspace(
        request=request, listing=listing, holds_lease=claims.LEASES.holds(request, staff),
        stage_verdicts=stage_verdicts(request), checklist=checklist_for(request.category),
        references=reference_listings(s, listing), seller=seller_history(s, request),
        price=price_comparison(s, listing), decisions=decisions_on(s, request.id),
        signals=listing_signals.for_listing(s, listing.id))


def usable_queues(staff: StaffUser) -> list[str]:
    return [name for name, permission in claims.QUEUE_PERMISSION.items()
            if staff.can(permission)]


def open_counts(s: Session) -> dict[str, int]:
    """Open requests per state, every open state listed (zero included)."""
    counts = dict(s.execute(select(R.state, func.count()).where(R.state.not_in(CLOSED_STATES))
                            .group_by(R.state)).all())
    return {state.value: counts.get(state.value, 0) for state in RequestState
            if state not in CLOSED_STATES}


def state_counts(s: Session) -> dict[str, int]:
    """Requests per state, closed ones included; states with none are left out."""
    return dict(s.execute(select(R.state, func.count()).group_by(R.state)).all())


def listings_by_id(s: Session, ids: list[int]) -> dict[int, Listing]:
    if not ids:
        return {}
    return {listing.id: listing for listing in s.scalars(
        select(Listing).where(Listing.id.in_(set(ids))).options(selectinload(Listing.photos)))}


def stage_verdicts(r: R) -> tuple[str, ...]:
    if r.claimed_from is None:
        return ()
    stage = decisions.STAGE_OF_QUEUE_STATE.get(RequestState(r.claimed_from))
    return tuple(decisions.VERDICTS_BY_STAGE.get(stage, ()))


def reference_listings(s: Session, listing: Listing) -> list[Listing]:
    """Authenticated live listings of the same brand and category, newest first."""
    return list(s.scalars(select(Listing).where(
        Listing.status == ListingStatus.LIVE, Listing.is_authenticated,
        Listing.brand_key == listing.brand_key, Listing.category == listing.category,
        Listing.id != listing.id).order_by(Listing.authenticated_at.desc(), Listing.id.desc())
        .options(selectinload(Listing.photos)).limit(REFERENCE_LIMIT)))


def price_comparison(s: Session, listing: Listing) -> PriceComparison:
    """The listing's price against the median of the newest live listings of its brand
    and category."""
    prices = list(s.scalars(select(Listing.price_paise).where(
        Listing.status == ListingStatus.LIVE, Listing.brand_key == listing.brand_key,
        Listing.category == listing.category, Listing.id != listing.id)
        .order_by(Listing.id.desc()).limit(MEDIAN_SAMPLE)))
    if not prices:
        return PriceComparison(median=None, sample=0, ratio=None)
    middle = int(median(prices))
    return PriceComparison(median=middle, sample=len(prices),
                           ratio=round(listing.price_paise / middle, 2) if middle else None)


def seller_history(s: Session, r: R) -> SellerHistory:
    earlier = list(s.scalars(select(R).where(R.seller_id == r.seller_id, R.id != r.id)
                             .order_by(R.id.desc()).limit(HISTORY_LIMIT)))
    return SellerHistory(member=s.get(Member, r.seller_id), requests=earlier,
                         listings=listings_by_id(s, [e.listing_id for e in earlier]),
                         strikes=decisions.strike_count(s, r.seller_id))


def decisions_on(s: Session, request_id: int) -> list[ReviewDecision]:
    return list(s.scalars(select(ReviewDecision).where(ReviewDecision.request_id == request_id)
                          .order_by(ReviewDecision.id)))


def events_of(s: Session, request_id: int) -> list[RequestEvent]:
    return list(s.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id)
                          .order_by(RequestEvent.id)))
