"""Request schemas and JSON shapes for offers and bundles."""
from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from marketplace_core.offers import bundles
from marketplace_core.offers.machine import TURN
from marketplace_core.offers.models import (
    ACTIVE_STATES,
    Bundle,
    BundleItem,
    Offer,
    OfferState,
)

_AMOUNT = {"type": "integer", "minimum": 1, "maximum": 10**12,
           "description": "integer paise (Rs 1 = 100 paise)"}
_PAYMENT = {"type": "string", "minLength": 1, "maxLength": 32,
            "description": "a payment method; the simulated provider knows test_card_ok, "
                           "test_upi_ok (approved) and test_card_declined (declined)"}

MAKE_OFFER = {"type": "object", "required": ["amount_paise", "payment_method"],
              "properties": {"amount_paise": {**_AMOUNT, "description":
                             "below the price and at least the minimum offer (50% of the "
                             "price, rounded up, and never under the configured floor)"},
                             "payment_method": _PAYMENT}}
ACCEPT = {"type": "object", "properties": {"payment_method": {
    **_PAYMENT, "description": "the buyer's, when the buyer accepts (defaults to the one "
                               "given with their offer); the seller sends none"}}}
COUNTER = {"type": "object", "required": ["amount_paise"], "properties": {
    "amount_paise": {**_AMOUNT, "description": "strictly between the buyer's and the "
                                               "seller's latest amounts"},
    "payment_method": {**_PAYMENT, "description": "the buyer's (needed on a buyer's first "
                                                  "counter to an offer to likers)"}}}
LIKERS_OFFER = {"type": "object", "required": ["amount_paise"], "properties": {
    "amount_paise": {**_AMOUNT, "description": "at least the configured discount (10%) "
                                               "below the price, rounded down"}}}
BUNDLE_DISCOUNT = {"type": "object", "required": ["percent", "min_items"], "properties": {
    "percent": {"type": "integer", "minimum": 0, "maximum": 100,
                "description": "0 turns it off; at most the configured cap"},
    "min_items": {"type": "integer", "minimum": 2, "maximum": 1000}}}
NEW_BUNDLE = {"type": "object", "required": ["seller_id"], "properties": {
    "seller_id": {"type": "integer", "minimum": 1}}}
BUY_BUNDLE = {"type": "object", "required": ["payment_method", "idempotency_key"],
              "properties": {"payment_method": _PAYMENT,
                             "idempotency_key": {"type": "string", "minLength": 1,
                                                 "maxLength": 100}}}
OFFER_LIST_PARAMS = [
    {"name": "role", "schema": {"type": "string", "enum": ["buyer", "seller"]},
     "description": "offers you made (buyer, the default) or received (seller)"},
    {"name": "state", "schema": {"type": "string",
                                 "enum": ["active", *[str(s) for s in OfferState]]}},
    {"name": "before", "schema": {"type": "integer"}, "description": "the previous page's "
                                                                     "next"},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]
DISCOUNT_RULES = ("The discount is floor(subtotal * percent / 100) paise: rounded down, so "
                  "it never exceeds the advertised percentage; total = subtotal - discount.")


def offer_json(s: Session, offer: Offer, viewer: Member, *, history: bool = False) -> dict:
    is_buyer = viewer.id == offer.buyer_id
    body = {
        "id": offer.id, "origin": offer.origin, "state": offer.state,
        "listing_id": offer.listing_id, "bundle_id": offer.bundle_id,
        "buyer_id": offer.buyer_id, "seller_id": offer.seller_id,
        "amount_paise": offer.amount_paise,
        "buyer_amount_paise": offer.buyer_amount_paise,
        "seller_amount_paise": offer.seller_amount_paise,
        "list_price_paise": offer.list_price_paise,
        "waiting_for": TURN.get(OfferState(offer.state)) if offer.state in ACTIVE_STATES
        else None,
        "your_side": "buyer" if is_buyer else "seller",
        "expires_at": offer.expires_at.isoformat(),
        "order_id": offer.order_id,
        "created_at": offer.created_at.isoformat(),
    }
    if is_buyer:
        body["payment_method"] = offer.payment_method
    if offer.listing_id is not None:
        listing = s.get(Listing, offer.listing_id)
        body["listing"] = {"id": listing.id, "title": listing.title,
                           "price_paise": listing.price_paise, "status": listing.status}
    if history:
        body["history"] = [{"from_state": e.from_state, "to_state": e.to_state,
                            "amount_paise": e.amount_paise, "by": _by(offer, e.actor),
                            "reason": e.reason, "at": e.occurred_at.isoformat()}
                           for e in offer.events]
    return body


def _by(offer: Offer, actor: str) -> str:
    if actor == f"member:{offer.buyer_id}":
        return "buyer"
    if actor == f"member:{offer.seller_id}":
        return "seller"
    return "system"


def bundle_json(s: Session, bundle: Bundle, *, just_dropped: list[BundleItem] = ()) -> dict:
    price = bundles.price_of(s, bundle)
    rule = bundles.discount_rule(s, bundle.seller_id)
    open_offer = bundles.active_offer(s, bundle)
    return {
        "id": bundle.id, "buyer_id": bundle.buyer_id, "seller_id": bundle.seller_id,
        "state": bundle.state, "order_id": bundle.order_id,
        "items": [_item_json(s.get(Listing, item.listing_id))
                  for item in bundle.current_items],
        "dropped_items": [_dropped_json(s, item) for item in bundle.items
                          if item.dropped_at is not None],
        "messages": [bundles.drop_message(s.get(Listing, item.listing_id).title,
                                          item.dropped_reason) for item in just_dropped],
        "price": {"item_count": price.item_count, "subtotal_paise": price.subtotal_paise,
                  "discount_percent": price.discount_percent,
                  "discount_paise": price.discount_paise, "total_paise": price.total_paise,
                  "rounding": DISCOUNT_RULES},
        "seller_discount": {"percent": rule.percent, "min_items": rule.min_items},
        "open_offer_id": open_offer.id if open_offer else None,
    }


def _item_json(listing: Listing) -> dict:
    return {"listing_id": listing.id, "title": listing.title,
            "price_paise": listing.price_paise, "status": listing.status}


def _dropped_json(s: Session, item: BundleItem) -> dict:
    listing = s.get(Listing, item.listing_id)
    return {"listing_id": listing.id, "title": listing.title, "reason": item.dropped_reason,
            "message": bundles.drop_message(listing.title, item.dropped_reason),
            "dropped_at": item.dropped_at.isoformat()}
