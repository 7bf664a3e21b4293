"""Offers on listings: make, counter, accept, decline, withdraw; offers to likers.

An accepted offer is binding: the acceptance and the order are one unit of work.  The
offer is claimed (a guarded UPDATE) and then `orders.place_order` charges the buyer; if
the payment is declined or the item is gone, the error rolls the claim back with
everything else, so the offer stays where it was and nothing is charged.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import events
from foundation.errors import Conflict, NotFound, ValidationFailed
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from marketplace_core.offers import checkout, guards, machine, pricing
from marketplace_core.offers.machine import BUYER, SELLER
from marketplace_core.offers.models import (
    ACTIVE_STATES,
    Bundle,
    Offer,
    OfferOrigin,
    OfferState,
)
from marketplace_core.social.models import Like

# --- reading ---------------------------------------------------------------------------

def get_for_party(s: Session, offer_id: int, member: Member) -> Offer:
    """An offer as its buyer or seller sees it; to anyone else it does not exist."""
    offer = s.get(Offer, offer_id)
    if offer is None or member.id not in (offer.buyer_id, offer.seller_id):
        raise NotFound("No such offer.")
    return offer


def side_of(offer: Offer, member: Member) -> str:
    return BUYER if member.id == offer.buyer_id else SELLER


def list_offers(s: Session, member: Member, *, role: str, state: str | None = None,
                before_id: int | None = None, limit: int = 24,
                ) -> tuple[list[Offer], int | None]:
    """The member's offers as buyer or seller, newest first, keyset-paginated by id."""
    party = Offer.buyer_id if role == BUYER else Offer.seller_id
    statement = select(Offer).where(party == member.id)
    if state == "active":
        statement = statement.where(Offer.state.in_(ACTIVE_STATES))
    elif state is not None:
        statement = statement.where(Offer.state == state)
    if before_id is not None:
        statement = statement.where(Offer.id < before_id)
    rows = list(s.scalars(statement.order_by(Offer.id.desc()).limit(limit + 1)))
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_before


# --- opening a negotiation -------------------------------------------------------------

def make_offer(s: Session, buyer: Member, listing_id: int, amount_paise: int,
               payment_method: str) -> Offer:
    """A buyer offers below the price of a live listing."""
    listing = listings.get_for_viewer(s, listing_id, buyer)
    if listing.seller_id == buyer.id:
        raise Conflict("You cannot make an offer on your own listing.", code="own_listing")
    guards.require_live(listing)
    guards.check_payment_method(payment_method)
    pricing.check_buyer_offer(amount_paise, listing.price_paise)
    guards.refuse_second_negotiation(s, buyer.id, listing_id=listing.id)
    offer = Offer(origin=OfferOrigin.BUYER, listing_id=listing.id, buyer_id=buyer.id,
                  seller_id=listing.seller_id, state=OfferState.PENDING_SELLER,
                  amount_paise=amount_paise, buyer_amount_paise=amount_paise,
                  seller_amount_paise=listing.price_paise,
                  list_price_paise=listing.price_paise, payment_method=payment_method)
    machine.open_offer(s, offer, actor=guards.actor(buyer), reason="offer_made")
    events.emit(s, events.OfferMade(offer_id=offer.id))
    return offer


def send_offers_to_likers(s: Session, seller: Member, listing_id: int,
                          amount_paise: int) -> list[Offer]:
    """One offer at a discount to every member who liked the listing and has no open
    negotiation on it yet; each can accept until it expires, the first one buys."""
    listing = listings.get_owned(s, listing_id, seller)
    guards.require_live(listing)
    pricing.check_liker_offer(amount_paise, listing.price_paise)
    busy = select(Offer.buyer_id).where(Offer.listing_id == listing.id,
                                        Offer.state.in_(ACTIVE_STATES))
    liker_ids = list(s.scalars(
        select(Like.member_id).join(Member, Member.id == Like.member_id)
        .where(Like.listing_id == listing.id, Like.member_id != seller.id,
               Member.is_active.is_(True), Like.member_id.not_in(busy))
        .order_by(Like.created_at, Like.member_id)))
    if not liker_ids:
        raise Conflict("Nobody without an open offer has liked this listing yet.",
                       code="no_likers")
    sent = []
    for liker_id in liker_ids:
        offer = Offer(origin=OfferOrigin.LIKERS, listing_id=listing.id, buyer_id=liker_id,
                      seller_id=seller.id, state=OfferState.PENDING_BUYER,
                      amount_paise=amount_paise, buyer_amount_paise=None,
                      seller_amount_paise=amount_paise, list_price_paise=listing.price_paise)
        sent.append(machine.open_offer(s, offer, actor=guards.actor(seller),
                                       reason="offer_to_likers"))
    events.emit(s, events.OffersSentToLikers(
        listing_id=listing.id, offer_ids=tuple(offer.id for offer in sent)))
    return sent


# --- answering -------------------------------------------------------------------------

def counter(s: Session, member: Member, offer: Offer, amount_paise: int,
            payment_method: str | None = None) -> Offer:
    side = side_of(offer, member)
    if payment_method is not None and side == SELLER:
        raise ValidationFailed("Only the buyer gives a payment method.",
                               fields={"payment_method": "only for the buyer"})
    if payment_method is not None:
        guards.check_payment_method(payment_method)
    if side == BUYER and not (payment_method or offer.payment_method):
        # The seller may accept the buyer's counter at once, so it must be payable.
        raise ValidationFailed("Give a payment method with your counter.",
                               fields={"payment_method": "required"})
    low, high = offer.buyer_amount_paise, offer.seller_amount_paise
    pricing.check_counter(amount_paise, low, high, offer.list_price_paise)
    _require_subject_available(s, offer)
    return machine.counter(s, offer, side, amount_paise, actor=guards.actor(member),
                           payment_method=payment_method)


def decline(s: Session, member: Member, offer: Offer) -> Offer:
    return machine.decline(s, offer, side_of(offer, member), actor=guards.actor(member))


def withdraw(s: Session, member: Member, offer: Offer) -> Offer:
    return machine.withdraw(s, offer, side_of(offer, member), actor=guards.actor(member))


def accept(s: Session, member: Member, offer: Offer,
           payment_method: str | None = None) -> Offer:
    """Accept the amount on the table: the offer becomes an order now, or nothing changes."""
    side = side_of(offer, member)
    if payment_method is not None and side == SELLER:
        raise ValidationFailed("The seller's acceptance charges the payment method the "
                               "buyer gave with the offer.",
                               fields={"payment_method": "only for the buyer"})
    method = payment_method or offer.payment_method
    if method is None:
        raise ValidationFailed("Give a payment method to accept.",
                               fields={"payment_method": "required"})
    guards.check_payment_method(method)
    return checkout.accept_offer(s, offer, side, actor=guards.actor(member),
                                 payment_method=method)


# --- helpers ---------------------------------------------------------------------------

def _require_subject_available(s: Session, offer: Offer) -> None:
    if offer.listing_id is not None:
        guards.require_live(s.get(Listing, offer.listing_id))
    else:
        guards.require_bundle_available(s, s.get(Bundle, offer.bundle_id))
