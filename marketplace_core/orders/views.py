"""Orders API: buy now, see and act on your orders, rate, and a seller's money."""
from __future__ import annotations

from flask import jsonify, request

from foundation import db
from foundation.errors import NotFound, ValidationFailed
from foundation.schema import query_int, validate
from foundation.web import json_body
from marketplace_core.api import api_route, current_member
from marketplace_core.ledger import services as ledger
from marketplace_core.listings.models import Listing
from marketplace_core.members.services import get_by_username
from marketplace_core.orders import payouts, ratings, schemas, services
from marketplace_core.orders.models import Order, OrderSource

TAG = "Orders"
MONEY_TAG = "Seller balance"


def _order_body(order: Order) -> dict:
    s = db.session()
    return schemas.order_json(order, ledger.order_money(s, order.id), viewer=current_member(),
                              deadlines=services.deadlines(order),
                              rating=ratings.rating_for(s, order.id))


def _page_args() -> tuple[int | None, int]:
    return (query_int(request.args, "cursor", minimum=1),
            query_int(request.args, "limit", minimum=1, maximum=100, default=20))


@api_route("/orders", "POST", summary="Buy now: pay for a live listing", tag=TAG,
           body=schemas.BUY_NOW,
           responses={201: "the order (placed: paid, awaiting shipment)",
                      200: "the same order again (repeated idempotency_key)",
                      402: "payment_declined: nothing was charged or kept",
                      404: "no such listing", 409: "not_available, price_changed, or "
                      "idempotency_key_reused", 422: "bad fields or payment method"})
def buy_now():
    data = validate(schemas.BUY_NOW, json_body())
    s = db.session()
    listing = s.get(Listing, data["listing_id"])
    if listing is None:
        raise NotFound("No such listing.")
    order = services.place_order(
        s, current_member(), [(listing, listing.price_paise)], source=OrderSource.BUY_NOW,
        payment_method=data["payment_method"],
        idempotency_key=data.get("idempotency_key") or services.new_idempotency_key())
    return jsonify(_order_body(order)), 200 if order.replayed else 201


@api_route("/orders", "GET", summary="Your orders, as buyer or seller, newest first", tag=TAG,
           query=schemas.LIST_PARAMS)
def list_orders():
    role = request.args.get("role", "buyer")
    if role not in ("buyer", "seller"):
        raise ValidationFailed("role must be buyer or seller.",
                               fields={"role": "one of: buyer, seller"})
    before_id, limit = _page_args()
    rows, next_cursor = services.list_orders(db.session(), current_member(), role,
                                             before_id=before_id, limit=limit)
    return jsonify({"items": [schemas.order_summary(o) for o in rows], "next": next_cursor})


@api_route("/orders/<int:order_id>", "GET", summary="An order you bought or sold, with its "
           "money (captured, held, released, refunded)", tag=TAG,
           responses={404: "no such order, or not yours"})
def get_order(order_id: int):
    order = services.get_for_participant(db.session(), order_id, current_member())
    return jsonify(_order_body(order))


@api_route("/orders/<int:order_id>/cancel", "POST", summary="Cancel an unshipped order "
           "(buy now within 3 hours, any order from day 7); full refund", tag=TAG,
           body=schemas.CANCEL,
           responses={403: "not the buyer", 409: "shipped, or not yet cancellable"})
def cancel(order_id: int):
    data = validate(schemas.CANCEL, json_body())
    s = db.session()
    order = services.get_for_participant(s, order_id, current_member())
    order = services.cancel_by_buyer(s, order, current_member(), data["reason"])
    return jsonify(_order_body(order))


@api_route("/orders/<int:order_id>/accept", "POST", summary="Accept a delivered order: the "
           "sale completes and the seller is paid", tag=TAG,
           responses={403: "not the buyer", 409: "not delivered, or a case holds it"})
def accept(order_id: int):
    s = db.session()
    order = services.get_for_participant(s, order_id, current_member())
    order = services.accept(s, order, current_member())
    return jsonify(_order_body(order))


@api_route("/orders/<int:order_id>/rating", "POST", summary="Rate a completed order (once, "
           "within 30 days); shown as a love note in the seller's closet", tag=TAG,
           body=schemas.RATE,
           responses={201: "the rating", 403: "not the buyer",
                      409: "not completed, already rated, or too late"})
def rate(order_id: int):
    data = validate(schemas.RATE, json_body())
    s = db.session()
    order = services.get_for_participant(s, order_id, current_member())
    rating = ratings.rate_order(s, order, current_member(), stars=data["stars"],
                                text=data.get("text", ""))
    return jsonify({"rating": schemas.rating_json(rating)}), 201


@api_route("/closets/<username>/ratings", "GET", summary="A closet's love notes, newest "
           "first, with the average", tag=TAG, auth="optional", query=schemas.PAGE_PARAMS)
def closet_ratings(username: str):
    s = db.session()
    seller = get_by_username(s, username)
    before_id, limit = _page_args()
    rows, next_cursor = ratings.closet_ratings(s, seller, before_id=before_id, limit=limit)
    return jsonify({"summary": ratings.rating_summary(s, seller),
                    "items": [schemas.rating_json(r, buyer) for r, buyer in rows],
                    "next": next_cursor})


@api_route("/me/balance", "GET", summary="Your money as a seller: available, pending in "
           "held orders, and on its way to your bank", tag=MONEY_TAG)
def balance():
    s = db.session()
    member = current_member()
    return jsonify({"balance": payouts.balance_for(s, member),
                    "payout_account": schemas.payout_account_json(
                        payouts.payout_account(s, member.id))})


@api_route("/me/payouts", "GET", summary="Your payouts, newest first", tag=MONEY_TAG,
           query=schemas.PAGE_PARAMS)
def list_payouts():
    before_id, limit = _page_args()
    rows, next_cursor = payouts.list_payouts(db.session(), current_member(),
                                             before_id=before_id, limit=limit)
    return jsonify({"items": [schemas.payout_json(p) for p in rows], "next": next_cursor})


@api_route("/me/payout-account", "PUT", summary="Set the bank account your earnings are "
           "paid to", tag=MONEY_TAG, body=schemas.PAYOUT_ACCOUNT,
           responses={200: "the account (number masked)", 422: "bad details"})
def set_payout_account():
    data = validate(schemas.PAYOUT_ACCOUNT, json_body())
    account = payouts.set_payout_account(db.session(), current_member(),
                                         account_number=data["account_number"],
                                         ifsc=data["ifsc"])
    return jsonify({"payout_account": schemas.payout_account_json(account)})
