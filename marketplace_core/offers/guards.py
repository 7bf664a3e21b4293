"""Checks shared by offers, bundles and checkout; each refuses with a 4xx domain error."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.errors import Conflict
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.offers.models import ACTIVE_STATES, Bundle, Offer
from marketplace_core.orders import payments


def require_live(listing: Listing | None) -> None:
    """Only a live listing may be offered on or bought (nothing awaiting authentication)."""
    if listing is None or listing.status != ListingStatus.LIVE:
        raise Conflict("This item is not available.", code="not_available")


def unavailable_listings(s: Session, bundle: Bundle) -> list[Listing]:
    """The bundle's current items that are no longer live."""
    listings = [s.get(Listing, item.listing_id) for item in bundle.current_items]
    return [listing for listing in listings if listing.status != ListingStatus.LIVE]


def require_bundle_available(s: Session, bundle: Bundle) -> None:
    gone = unavailable_listings(s, bundle)
    if gone:
        titles = ", ".join(f"'{listing.title}'" for listing in gone)
        raise Conflict(f"No longer available: {titles}. Nothing was charged; they will be "
                       "dropped from your bundle, so check the new total and try again.",
                       code="not_available",
                       fields={"listing_ids": ",".join(str(listing.id) for listing in gone)})


def check_payment_method(method: str) -> None:
    payments.require_supported(payments.provider(), method)


def refuse_second_negotiation(s: Session, buyer_id: int, *, listing_id: int | None = None,
                              bundle_id: int | None = None) -> None:
    subject = Offer.listing_id == listing_id if listing_id is not None \
        else Offer.bundle_id == bundle_id
    existing = s.scalar(select(Offer.id).where(Offer.buyer_id == buyer_id, subject,
                                               Offer.state.in_(ACTIVE_STATES)))
    if existing is not None:
        raise Conflict(f"You already have an open offer here (offer {existing}); answer or "
                       "withdraw it first.", code="offer_already_active",
                       fields={"offer_id": str(existing)})


def actor(member: Member) -> str:
    return f"member:{member.id}"
