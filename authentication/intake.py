"""Opening requests when the marketplace says a listing needs review, and reacting when
the listing changes under an open request."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authentication import machine
from authentication.models import CLOSED_STATES, AuthenticationRequest, Reason, RequestState
from foundation import clock
from foundation.casework import SYSTEM
from foundation.leases import unclaimed
from marketplace_core.listings.models import Listing

# The marketplace's reason words, mapped onto ours.
LISTING_REASONS = {"published": Reason.PUBLISHED, "price_changed": Reason.PRICE_RAISED,
                   "price_raised": Reason.PRICE_RAISED,
                   "photos_changed": Reason.PHOTOS_CHANGED, "relisted": Reason.RELISTED,
                   "risk": Reason.RISK}
# Photos uploaded after a photo request put the item ahead of everything not breached.
REQUEUED_PRIORITY = 1
# A high counterfeit-risk score ranks an item with requeued ones, ahead of routine work.
HIGH_RISK_PRIORITY = 1


def active_request_for(s: Session, listing_id: int) -> AuthenticationRequest | None:
    return s.scalar(select(AuthenticationRequest).where(
        AuthenticationRequest.listing_id == listing_id,
        AuthenticationRequest.state.not_in(CLOSED_STATES)))


def listing_needs_review(s: Session, listing_id: int, reason: str) -> AuthenticationRequest | None:
    """Open the listing's request, or reuse the open one (idempotent)."""
    listing = s.get(Listing, listing_id)
    if listing is None:
        return None
    our_reason = LISTING_REASONS.get(reason, Reason.PUBLISHED)
    request = active_request_for(s, listing_id)
    if request is None:
        request = _open(s, listing, our_reason)
    else:
        _refresh_from_listing(s, request, listing, our_reason)
    return request


def open_for_dispute(s: Session, listing_id: int, case_id: int) -> AuthenticationRequest:
    """A buyer says a sold item is not authentic: seniors judge it from the listing's
    photos and the buyer's evidence, ahead of routine first reviews."""
    listing = s.get(Listing, listing_id)
    request = active_request_for(s, listing_id) or _open(s, listing, Reason.DISPUTE)
    if request.reason == Reason.DISPUTE and not request.senior_only:
        request.senior_only = True
        request.priority = max(request.priority, REQUEUED_PRIORITY)
        s.flush()
        machine.log(s, request, request.state, SYSTEM, "dispute_case",
                    {"case_id": case_id})
    return request


def photos_uploaded(s: Session, listing_id: int) -> None:
    request = active_request_for(s, listing_id)
    if request is not None and request.state == RequestState.AWAITING_PHOTOS:
        requeue_after_photos(s, request)


def requeue_after_photos(s: Session, request: AuthenticationRequest) -> None:
    """The seller answered a photo request: back to the front, the SLA clock running."""
    now = clock.now()
    machine.try_transition(
        s, request, RequestState.QUEUED, actor=f"member:{request.seller_id}",
        reason="photos_uploaded",
        values={**machine.clock_resumed(request, now), "photos_due_at": None,
                "priority": max(request.priority, REQUEUED_PRIORITY)})


def listing_left_review(s: Session, listing_id: int, why: str) -> None:
    """Withdrawn, removed or no longer above the threshold: nothing left to review."""
    request = active_request_for(s, listing_id)
    if request is not None:
        machine.try_transition(s, request, RequestState.CANCELLED, actor=SYSTEM, reason=why,
                               values=unclaimed())


def record_risk(s: Session, listing_id: int, score: float, reasons: list[str], *,
                high_risk: bool) -> AuthenticationRequest | None:
    """The vision model scored the listing: the queue orders by the score, and a high
    risk moves the item ahead of routine first reviews.  None when no review is open."""
    request = active_request_for(s, listing_id)
    if request is None:
        return None
    request.risk_score = score
    request.risk_reasons = list(reasons)
    if high_risk:
        request.priority = max(request.priority, HIGH_RISK_PRIORITY)
    request.updated_at = clock.now()
    s.flush()
    return request


def _open(s: Session, listing: Listing, reason: Reason) -> AuthenticationRequest:
    now = clock.now()
    request = AuthenticationRequest(
        listing_id=listing.id, seller_id=listing.seller_id, reason=reason,
        price_paise=listing.price_paise, brand=listing.brand, brand_key=listing.brand_key,
        category=listing.category, state=RequestState.QUEUED, priority=0, version=1,
        requested_angles=[], risk_reasons=[], created_at=now, updated_at=now,
        **machine.clock_started(now))
    try:
        with s.begin_nested():
            s.add(request)
            s.flush()
    except IntegrityError:
        # The partial unique index: a concurrent announcement opened it first.
        existing = active_request_for(s, listing.id)
        if existing is None:
            raise
        return existing
    machine.log(s, request, None, f"member:{listing.seller_id}", f"opened:{reason}")
    return request


def _refresh_from_listing(s: Session, request: AuthenticationRequest, listing: Listing,
                          reason: Reason) -> None:
    """The price or photos changed while the request was open: route on what is there now."""
    request.price_paise = listing.price_paise
    request.brand, request.brand_key = listing.brand, listing.brand_key
    request.category = listing.category
    request.updated_at = clock.now()
    s.flush()
    if request.state == RequestState.AWAITING_PHOTOS and reason == Reason.PHOTOS_CHANGED:
        requeue_after_photos(s, request)

