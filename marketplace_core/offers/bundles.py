"""Bundles: several live items from one closet, priced with the seller's bundle discount.

A buyer keeps one open bundle per seller.  Items that stop being live (sold, taken
down, sent back to authentication) are dropped from the bundle with the reason, the
next time the bundle is read; buying re-checks every item under a row lock.
While a bundle offer is open, the bundle's items are fixed: the offer is for them.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.members.services import get_member
from marketplace_core.offers import guards, machine, pricing
from marketplace_core.offers.models import (
    ACTIVE_STATES,
    Bundle,
    BundleItem,
    BundleState,
    Offer,
    OfferOrigin,
    OfferState,
    SellerBundleDiscount,
)

# Why an item left a bundle, by the listing's status, in the buyer's words.
DROP_REASONS = {
    ListingStatus.SOLD: "sold",
    ListingStatus.REMOVED: "no_longer_listed",
    ListingStatus.PENDING_AUTHENTICATION: "awaiting_authentication",
    ListingStatus.DRAFT: "no_longer_listed",
}
DROP_MESSAGES = {
    "sold": "was sold to someone else and has been removed from your bundle",
    "no_longer_listed": "is no longer listed and has been removed from your bundle",
    "awaiting_authentication": "is being authenticated again and has been removed from "
                               "your bundle",
}


# --- the seller's discount -------------------------------------------------------------

@dataclass(frozen=True)
class DiscountRule:
    percent: int
    min_items: int


NO_DISCOUNT = DiscountRule(percent=0, min_items=2)


def discount_rule(s: Session, seller_id: int) -> DiscountRule:
    row = s.get(SellerBundleDiscount, seller_id)
    return DiscountRule(row.percent, row.min_items) if row else NO_DISCOUNT


def set_discount(s: Session, seller: Member, percent: int, min_items: int) -> DiscountRule:
    """Percent 0 turns the discount off; the cap and the largest bundle are configured."""
    rules = settings()
    problems = {}
    if not 0 <= percent <= rules.BUNDLE_DISCOUNT_MAX_PERCENT:
        problems["percent"] = f"between 0 and {rules.BUNDLE_DISCOUNT_MAX_PERCENT}"
    if not 2 <= min_items <= rules.BUNDLE_MAX_ITEMS:
        problems["min_items"] = f"between 2 and {rules.BUNDLE_MAX_ITEMS}"
    if problems:
        raise ValidationFailed("That bundle discount is not allowed.", fields=problems)
    row = s.get(SellerBundleDiscount, seller.id)
    if row is None:
        row = SellerBundleDiscount(seller_id=seller.id)
        s.add(row)
    row.percent, row.min_items, row.updated_at = percent, min_items, clock.now()
    s.flush()
    return DiscountRule(percent, min_items)


# --- bundles ---------------------------------------------------------------------------

def open_bundle(s: Session, buyer: Member, seller_id: int) -> tuple[Bundle, bool]:
    """The buyer's open bundle with this seller, created if needed; True if new."""
    if seller_id == buyer.id:
        raise Conflict("You cannot bundle your own listings.", code="own_listing")
    seller = get_member(s, seller_id)
    existing = _open_bundle_of(s, buyer.id, seller.id)
    if existing is not None:
        return existing, False
    now = clock.now()
    bundle = Bundle(buyer_id=buyer.id, seller_id=seller.id, state=BundleState.OPEN,
                    created_at=now, updated_at=now)
    s.add(bundle)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        return _open_bundle_of(s, buyer.id, seller.id), False  # a concurrent request won
    return bundle, True


def get_for_party(s: Session, bundle_id: int, member: Member) -> Bundle:
    """The buyer sees their bundle; the seller too (a bundle offer is about it)."""
    bundle = s.get(Bundle, bundle_id)
    if bundle is None or member.id not in (bundle.buyer_id, bundle.seller_id):
        raise NotFound("No such bundle.")
    return bundle


def get_own(s: Session, bundle_id: int, buyer: Member) -> Bundle:
    bundle = get_for_party(s, bundle_id, buyer)
    if bundle.buyer_id != buyer.id:
        raise PermissionDenied("Only the buyer changes a bundle.", code="not_owner")
    return bundle


def add_item(s: Session, buyer: Member, bundle: Bundle, listing_id: int) -> BundleItem:
    _require_editable(s, bundle)
    listing = listings.get_for_viewer(s, listing_id, buyer)
    if listing.seller_id != bundle.seller_id:
        raise Conflict("A bundle holds items from one closet only.", code="other_seller")
    guards.require_live(listing)
    item = _item(s, bundle, listing.id)
    if item is not None and item.dropped_at is None:
        return item  # adding twice is harmless
    if len(bundle.current_items) >= settings().BUNDLE_MAX_ITEMS:
        raise Conflict(f"A bundle holds at most {settings().BUNDLE_MAX_ITEMS} items.",
                       code="bundle_full")
    now = clock.now()
    if item is None:
        item = BundleItem(bundle_id=bundle.id, listing_id=listing.id, added_at=now)
        s.add(item)
    else:  # it was dropped and is live again (an order was cancelled)
        item.dropped_at, item.dropped_reason, item.added_at = None, None, now
    bundle.updated_at = now
    s.flush()
    s.refresh(bundle, ["items"])
    return item


def remove_item(s: Session, buyer: Member, bundle: Bundle, listing_id: int) -> None:
    _require_editable(s, bundle)
    item = _item(s, bundle, listing_id)
    if item is None or item.dropped_at is not None:
        raise NotFound("That item is not in this bundle.")
    s.delete(item)
    bundle.updated_at = clock.now()
    s.flush()
    s.refresh(bundle, ["items"])


def drop_unavailable(s: Session, bundle: Bundle) -> list[BundleItem]:
    """Drop the items that are no longer live (an open bundle only); returns them."""
    if bundle.state != BundleState.OPEN:
        return []
    dropped = []
    for item in bundle.current_items:
        listing = s.get(Listing, item.listing_id)
        if listing.status != ListingStatus.LIVE:
            item.dropped_at = clock.now()
            item.dropped_reason = DROP_REASONS.get(ListingStatus(listing.status),
                                                   "no_longer_listed")
            dropped.append(item)
    if dropped:
        s.flush()
        open_offer = active_offer(s, bundle)
        if open_offer is not None:  # it was for items that are no longer all there
            machine.supersede(s, [open_offer], "bundle_changed")
    return dropped


def drop_message(title: str, reason: str) -> str:
    return f"'{title}' {DROP_MESSAGES.get(reason, DROP_MESSAGES['no_longer_listed'])}."


def current_listings(s: Session, bundle: Bundle) -> list[Listing]:
    return [s.get(Listing, item.listing_id) for item in bundle.current_items]


def price_of(s: Session, bundle: Bundle) -> pricing.BundlePrice:
    """Before and after the seller's discount, over the bundle's current items."""
    rule = discount_rule(s, bundle.seller_id)
    return pricing.bundle_price([listing.price_paise for listing in current_listings(s, bundle)],
                                rule.percent, rule.min_items)


def active_offer(s: Session, bundle: Bundle) -> Offer | None:
    return s.scalar(select(Offer).where(Offer.bundle_id == bundle.id,
                                        Offer.state.in_(ACTIVE_STATES)))


def make_bundle_offer(s: Session, buyer: Member, bundle: Bundle, amount_paise: int,
                      payment_method: str) -> Offer:
    """One offer for the whole bundle, negotiated like an offer on a listing; the asking
    price is the bundle's total after the seller's discount."""
    if bundle.state != BundleState.OPEN:
        raise Conflict("This bundle has already been bought.", code="bundle_closed")
    if not bundle.current_items:
        raise Conflict("Add items to the bundle first.", code="bundle_empty")
    guards.require_bundle_available(s, bundle)
    guards.check_payment_method(payment_method)
    price = price_of(s, bundle)
    pricing.check_buyer_offer(amount_paise, price.total_paise)
    guards.refuse_second_negotiation(s, buyer.id, bundle_id=bundle.id)
    offer = Offer(origin=OfferOrigin.BUNDLE, bundle_id=bundle.id, buyer_id=buyer.id,
                  seller_id=bundle.seller_id, state=OfferState.PENDING_SELLER,
                  amount_paise=amount_paise, buyer_amount_paise=amount_paise,
                  seller_amount_paise=price.total_paise, list_price_paise=price.total_paise,
                  payment_method=payment_method)
    machine.open_offer(s, offer, actor=guards.actor(buyer), reason="bundle_offer_made")
    events.emit(s, events.OfferMade(offer_id=offer.id))
    return offer


def _require_editable(s: Session, bundle: Bundle) -> None:
    if bundle.state != BundleState.OPEN:
        raise Conflict("This bundle has already been bought.", code="bundle_closed")
    if active_offer(s, bundle) is not None:
        raise Conflict("You have an open offer on this bundle; withdraw it before "
                       "changing the items.", code="bundle_has_open_offer")


def _item(s: Session, bundle: Bundle, listing_id: int) -> BundleItem | None:
    return s.scalar(select(BundleItem).where(BundleItem.bundle_id == bundle.id,
                                             BundleItem.listing_id == listing_id))


def _open_bundle_of(s: Session, buyer_id: int, seller_id: int) -> Bundle | None:
    return s.scalar(select(Bundle).where(Bundle.buyer_id == buyer_id,
                                         Bundle.seller_id == seller_id,
                                         Bundle.state == BundleState.OPEN))
