"""Turning an accepted offer or a bundle into an order, through `orders.place_order`.

Lock order, always: the listings (in id order), then the offer row.  The order's
ORDER_PLACED event supersedes the other open offers on those listings in the same
transaction; taking the listing locks first means two likers accepting at once queue
on the listing instead of each holding their own offer and waiting for the other's.
A declined payment or a sold item raises out of here and the caller's unit of work
rolls back the claimed acceptance or purchase with it: nothing changes, nothing is charged.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foundation import clock, events
from foundation.errors import Conflict
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from marketplace_core.offers import bundles, guards, machine
from marketplace_core.offers.models import Bundle, BundleState, Offer
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order, OrderSource


def accept_offer(s: Session, offer: Offer, side: str, *, actor: str,
                 payment_method: str) -> Offer:
    buyer = s.get(Member, offer.buyer_id)
    if offer.listing_id is not None:
        (listing,) = _lock_listings(s, [offer.listing_id])
        guards.require_live(listing)
        machine.claim_acceptance(s, offer, side, actor=actor, payment_method=payment_method)
        # The buyer never pays more than the asking price, should it have dropped meanwhile.
        price = min(offer.amount_paise, listing.price_paise)
        order = orders.place_order(s, buyer, [(listing, price)], source=OrderSource.OFFER,
                                   offer_id=offer.id, payment_method=payment_method,
                                   idempotency_key=_offer_key(offer))
    else:
        bundle = s.get(Bundle, offer.bundle_id)
        locked = _lock_listings(s, [item.listing_id for item in bundle.current_items])
        guards.require_bundle_available(s, bundle)
        machine.claim_acceptance(s, offer, side, actor=actor, payment_method=payment_method)
        _close_bundle(s, bundle, purchase_key=_offer_key(offer))
        subtotal = sum(listing.price_paise for listing in locked)
        order = orders.place_order(
            s, buyer, [(listing, listing.price_paise) for listing in locked],
            source=OrderSource.OFFER, offer_id=offer.id, bundle_id=bundle.id,
            discount_paise=max(subtotal - offer.amount_paise, 0),
            payment_method=payment_method, idempotency_key=_offer_key(offer))
        _record_bundle_order(s, bundle, order)
    machine.record_order(s, offer, order.id)
    return offer


def buy_bundle(s: Session, buyer: Member, bundle: Bundle, *, payment_method: str,
               idempotency_key: str) -> Order:
    """One order for the bundle's items at the seller's bundle discount, one shipment."""
    guards.check_payment_method(payment_method)
    if bundle.state == BundleState.PURCHASED:
        if bundle.purchase_key == idempotency_key and bundle.order_id is not None:
            order = s.get(Order, bundle.order_id)
            order.replayed = True
            return order
        raise Conflict("This bundle has already been bought.", code="bundle_closed")
    if not bundle.current_items:
        raise Conflict("Add items to the bundle first.", code="bundle_empty")
    locked = _lock_listings(s, [item.listing_id for item in bundle.current_items])
    guards.require_bundle_available(s, bundle)
    price = bundles.price_of(s, bundle)
    _close_bundle(s, bundle, purchase_key=idempotency_key)
    order = orders.place_order(s, buyer, [(listing, listing.price_paise) for listing in locked],
                               source=OrderSource.BUNDLE, bundle_id=bundle.id,
                               discount_paise=price.discount_paise,
                               payment_method=payment_method, idempotency_key=idempotency_key)
    _record_bundle_order(s, bundle, order)
    return order


def _lock_listings(s: Session, listing_ids: list[int]) -> list[Listing]:
    return list(s.execute(select(Listing).where(Listing.id.in_(listing_ids))
                          .order_by(Listing.id).with_for_update()
                          .execution_options(populate_existing=True)).scalars())


def _close_bundle(s: Session, bundle: Bundle, *, purchase_key: str) -> None:
    """open -> purchased, guarded so that two checkouts of one bundle cannot both pass."""
    result = s.execute(update(Bundle).where(Bundle.id == bundle.id,
                                            Bundle.state == BundleState.OPEN)
                       .values(state=BundleState.PURCHASED, purchase_key=purchase_key,
                               updated_at=clock.now())
                       .execution_options(synchronize_session=False))
    s.refresh(bundle)
    if result.rowcount != 1:
        raise Conflict("This bundle has already been bought.", code="bundle_closed")


def _record_bundle_order(s: Session, bundle: Bundle, order: Order) -> None:
    bundle.order_id = order.id
    s.flush()
    events.emit(s, events.BundlePurchased(bundle_id=bundle.id, order_id=order.id))


def _offer_key(offer: Offer) -> str:
    # An offer is accepted at most once, so its id is a natural idempotency key.
    return f"offer:{offer.id}"
