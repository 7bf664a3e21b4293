"""Request schemas and JSON shapes for orders, ratings, balances and payouts."""
from __future__ import annotations

from datetime import datetime

from marketplace_core.ledger.models import Payout
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order, PayoutAccount, Rating

BUY_NOW = {"type": "object", "required": ["listing_id", "payment_method"], "properties": {
    "listing_id": {"type": "integer", "minimum": 1},
    "payment_method": {"type": "string", "minLength": 1, "maxLength": 32,
                       "description": "test_card_ok, test_upi_ok or test_card_declined "
                                      "(simulated provider)"},
    "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 100,
                        "pattern": "[A-Za-z0-9_.:-]+",
                        "x-pattern-message": "letters, digits and _ . : - only",
                        "description": "repeat a request with the same key to get the "
                                       "same order back instead of a second charge"},
}}
CANCEL = {"type": "object", "required": ["reason"], "properties": {
    "reason": {"type": "string", "minLength": 1, "maxLength": 200}}}
RATE = {"type": "object", "required": ["stars"], "properties": {
    "stars": {"type": "integer", "minimum": 1, "maximum": 5},
    "text": {"type": "string", "maxLength": 500}}}
PAYOUT_ACCOUNT = {"type": "object", "required": ["account_number", "ifsc"], "properties": {
    "account_number": {"type": "string", "pattern": "[0-9]{9,18}",
                       "x-pattern-message": "9 to 18 digits"},
    "ifsc": {"type": "string", "pattern": "[A-Za-z]{4}0[A-Za-z0-9]{6}",
             "x-pattern-message": "an IFSC such as HDFC0001234"}}}

PAGE_PARAMS = [
    {"name": "cursor", "schema": {"type": "integer"}, "description": "the previous page's next"},
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]
LIST_PARAMS = [{"name": "role", "schema": {"type": "string", "enum": ["buyer", "seller"]},
                "description": "orders you bought (default) or sold"}, *PAGE_PARAMS]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def order_json(order: Order, money: dict[str, int], *, viewer: Member, deadlines: dict,
               rating: Rating | None = None) -> dict:
    body = {
        "id": order.id, "status": order.status, "source": order.source,
        "buyer_id": order.buyer_id, "seller_id": order.seller_id,
        "offer_id": order.offer_id, "bundle_id": order.bundle_id,
        "items": [{"listing_id": item.listing_id, "title": item.listing.title,
                   "price_paise": item.price_paise} for item in order.items],
        "items_total_paise": order.items_total_paise,
        "discount_paise": order.discount_paise,
        "shipping_paise": order.shipping_paise,
        "total_paise": order.total_paise,
        "weight_grams": order.total_weight_grams,
        "on_hold": order.on_hold,
        "placed_at": _iso(order.placed_at), "shipped_at": _iso(order.shipped_at),
        "delivered_at": _iso(order.delivered_at), "completed_at": _iso(order.completed_at),
        "cancelled_at": _iso(order.cancelled_at), "refunded_at": _iso(order.refunded_at),
        "cancelled_by": order.cancelled_by, "cancel_reason": order.cancel_reason,
        "deadlines": {name: _iso(moment) for name, moment in deadlines.items()},
        "rating": rating_json(rating) if rating else None,
        **money,
    }
    if viewer.id == order.buyer_id:
        body["payment_method"] = order.payment_method
    if viewer.id == order.seller_id:
        body["commission_paise"] = order.commission_paise
        body["label_surcharge_paise"] = order.label_surcharge_paise
    return body


def order_summary(order: Order) -> dict:
    return {"id": order.id, "status": order.status, "source": order.source,
            "buyer_id": order.buyer_id, "seller_id": order.seller_id,
            "total_paise": order.total_paise, "item_count": len(order.items),
            "on_hold": order.on_hold, "placed_at": _iso(order.placed_at)}


def rating_json(rating: Rating, buyer: Member | None = None) -> dict:
    body = {"id": rating.id, "stars": rating.stars,
            "text": rating.text, "created_at": _iso(rating.created_at)}
    if buyer is not None:
        body["buyer"] = {"username": buyer.username, "display_name": buyer.display_name}
    return body


def payout_json(payout: Payout) -> dict:
    return {"id": payout.id, "amount_paise": payout.amount_paise, "state": payout.state,
            "created_at": _iso(payout.created_at), "settled_at": _iso(payout.settled_at),
            "failure_reason": payout.failure_reason}


def payout_account_json(account: PayoutAccount | None) -> dict | None:
    if account is None:
        return None
    return {"account_number": "•" * 4 + account.account_number[-4:], "ifsc": account.ifsc}
