"""Offers and bundles API: negotiate, accept into an order, offers to likers, bundles."""
from __future__ import annotations

from flask import jsonify, request

from foundation import db
from foundation.errors import ValidationFailed
from foundation.schema import query_int, validate
from foundation.web import json_body
from marketplace_core.api import api_route, current_member
from marketplace_core.offers import bundles, checkout, schemas, services
from marketplace_core.offers.models import OfferState
from marketplace_core.orders.models import Order

OFFERS = "Offers"
BUNDLES = "Bundles"
ANSWER_ERRORS = {403: "not a party", 404: "no such offer (or not yours)",
                 409: "not your turn, expired, answered, or the item is gone"}


@api_route("/listings/<int:listing_id>/offers", "POST", summary="Offer below the price of a "
           "live listing; the seller has 24 hours to answer", tag=OFFERS,
           body=schemas.MAKE_OFFER,
           responses={201: "the offer (pending_seller)", 404: "no such live listing",
                      409: "your own listing, or you already have an open offer on it",
                      422: "at or above the price, below the minimum, or an unknown "
                           "payment method"})
def make_offer(listing_id: int):
    data = validate(schemas.MAKE_OFFER, json_body())
    s = db.session()
    offer = services.make_offer(s, current_member(), listing_id, data["amount_paise"],
                                data["payment_method"])
    return jsonify({"offer": schemas.offer_json(s, offer, current_member(),
                                                history=True)}), 201


@api_route("/offers", "GET", summary="Your offers as buyer or seller, newest first",
           tag=OFFERS, query=schemas.OFFER_LIST_PARAMS)
def list_offers():
    role = request.args.get("role", "buyer")
    if role not in ("buyer", "seller"):
        raise ValidationFailed("role is buyer or seller.", fields={"role": "buyer or seller"})
    state = request.args.get("state") or None
    if state is not None and state != "active" and state not in set(OfferState):
        raise ValidationFailed("Unknown state.", fields={"state": "an offer state or active"})
    s = db.session()
    offers, next_before = services.list_offers(
        s, current_member(), role=role, state=state,
        before_id=query_int(request.args, "before", minimum=1),
        limit=query_int(request.args, "limit", minimum=1, maximum=100, default=24))
    return jsonify({"items": [schemas.offer_json(s, o, current_member()) for o in offers],
                    "next": next_before})


@api_route("/offers/<int:offer_id>", "GET", summary="An offer with its history of counters "
           "(its buyer and seller only)", tag=OFFERS, responses={404: "no such offer"})
def get_offer(offer_id: int):
    s = db.session()
    offer = services.get_for_party(s, offer_id, current_member())
    return jsonify({"offer": schemas.offer_json(s, offer, current_member(), history=True)})


@api_route("/offers/<int:offer_id>/accept", "POST", summary="Accept the amount on the "
           "table: it becomes an order at once (binding)", tag=OFFERS, body=schemas.ACCEPT,
           responses={200: "the accepted offer and its order", 402: "payment declined; the "
                      "offer is unchanged", **ANSWER_ERRORS})
def accept_offer(offer_id: int):
    data = validate(schemas.ACCEPT, _optional_body())
    s = db.session()
    offer = services.get_for_party(s, offer_id, current_member())
    services.accept(s, current_member(), offer, data.get("payment_method"))
    return jsonify({"offer": schemas.offer_json(s, offer, current_member(), history=True),
                    "order": _order_json(s.get(Order, offer.order_id))})


@api_route("/offers/<int:offer_id>/decline", "POST", summary="Decline the amount on the "
           "table", tag=OFFERS, responses=ANSWER_ERRORS)
def decline_offer(offer_id: int):
    s = db.session()
    offer = services.get_for_party(s, offer_id, current_member())
    services.decline(s, current_member(), offer)
    return jsonify({"offer": schemas.offer_json(s, offer, current_member(), history=True)})


@api_route("/offers/<int:offer_id>/counter", "POST", summary="Counter with an amount "
           "between the two sides' latest; the other side has 24 hours", tag=OFFERS,
           body=schemas.COUNTER, responses={422: "amount out of range", **ANSWER_ERRORS})
def counter_offer(offer_id: int):
    data = validate(schemas.COUNTER, json_body())
    s = db.session()
    offer = services.get_for_party(s, offer_id, current_member())
    services.counter(s, current_member(), offer, data["amount_paise"],
                     data.get("payment_method"))
    return jsonify({"offer": schemas.offer_json(s, offer, current_member(), history=True)})


@api_route("/offers/<int:offer_id>/withdraw", "POST", summary="Take back your own "
           "proposal while the other side has not answered", tag=OFFERS,
           responses=ANSWER_ERRORS)
def withdraw_offer(offer_id: int):
    s = db.session()
    offer = services.get_for_party(s, offer_id, current_member())
    services.withdraw(s, current_member(), offer)
    return jsonify({"offer": schemas.offer_json(s, offer, current_member(), history=True)})


@api_route("/listings/<int:listing_id>/offers-to-likers", "POST", summary="Send an offer "
           "at a discount to everyone who liked your live listing; the first to accept "
           "buys", tag=OFFERS, body=schemas.LIKERS_OFFER,
           responses={201: "how many offers were sent", 403: "not your listing",
                      404: "no such listing", 409: "not live, or no likers",
                      422: "not discounted enough, or below the minimum"})
def offers_to_likers(listing_id: int):
    data = validate(schemas.LIKERS_OFFER, json_body())
    s = db.session()
    sent = services.send_offers_to_likers(s, current_member(), listing_id,
                                          data["amount_paise"])
    return jsonify({"sent": len(sent), "offer_ids": [offer.id for offer in sent],
                    "amount_paise": data["amount_paise"],
                    "expires_at": sent[0].expires_at.isoformat()}), 201


# --- bundles ---------------------------------------------------------------------------

@api_route("/me/bundle-discount", "GET", summary="Your bundle discount for buyers",
           tag=BUNDLES)
def get_bundle_discount():
    rule = bundles.discount_rule(db.session(), current_member().id)
    return jsonify({"percent": rule.percent, "min_items": rule.min_items})


@api_route("/me/bundle-discount", "PUT", summary="Set your bundle discount (e.g. 15% off "
           "3 or more items; 0 turns it off)", tag=BUNDLES, body=schemas.BUNDLE_DISCOUNT,
           responses={422: "above the cap, or min_items out of range"})
def put_bundle_discount():
    data = validate(schemas.BUNDLE_DISCOUNT, json_body())
    rule = bundles.set_discount(db.session(), current_member(), data["percent"],
                                data["min_items"])
    return jsonify({"percent": rule.percent, "min_items": rule.min_items})


@api_route("/bundles", "POST", summary="Start a bundle with a seller (or get your open one)",
           tag=BUNDLES, body=schemas.NEW_BUNDLE,
           responses={201: "a new bundle", 200: "your open bundle with this seller",
                      404: "no such seller", 409: "your own closet"})
def create_bundle():
    data = validate(schemas.NEW_BUNDLE, json_body())
    s = db.session()
    bundle, created = bundles.open_bundle(s, current_member(), data["seller_id"])
    return jsonify({"bundle": schemas.bundle_json(s, bundle)}), 201 if created else 200


@api_route("/bundles/<int:bundle_id>", "GET", summary="A bundle: its items, the price before "
           "and after the seller's discount; items no longer live are dropped with a "
           "message", tag=BUNDLES, responses={404: "no such bundle"})
def get_bundle(bundle_id: int):
    s = db.session()
    bundle = bundles.get_for_party(s, bundle_id, current_member())
    dropped = bundles.drop_unavailable(s, bundle)
    return jsonify({"bundle": schemas.bundle_json(s, bundle, just_dropped=dropped)})


@api_route("/bundles/<int:bundle_id>/items/<int:listing_id>", "POST", summary="Add a live "
           "item from the bundle's seller", tag=BUNDLES,
           responses={404: "no such bundle or live listing",
                      409: "another seller's item, not live, bundle full, bought, or "
                           "under an open offer"})
def add_bundle_item(bundle_id: int, listing_id: int):
    s = db.session()
    bundle = bundles.get_own(s, bundle_id, current_member())
    dropped = bundles.drop_unavailable(s, bundle)
    bundles.add_item(s, current_member(), bundle, listing_id)
    return jsonify({"bundle": schemas.bundle_json(s, bundle, just_dropped=dropped)})


@api_route("/bundles/<int:bundle_id>/items/<int:listing_id>", "DELETE",
           summary="Remove an item", tag=BUNDLES,
           responses={404: "not in the bundle", 409: "bought, or under an open offer"})
def remove_bundle_item(bundle_id: int, listing_id: int):
    s = db.session()
    bundle = bundles.get_own(s, bundle_id, current_member())
    bundles.remove_item(s, current_member(), bundle, listing_id)
    return jsonify({"bundle": schemas.bundle_json(s, bundle)})


@api_route("/bundles/<int:bundle_id>/buy", "POST", summary="Buy the bundle: one order at "
           "the discounted total plus one shipping fee", tag=BUNDLES, body=schemas.BUY_BUNDLE,
           responses={201: "the order", 200: "the same order again (repeated key)",
                      402: "payment declined; nothing charged",
                      409: "an item is no longer available (nothing charged), empty, or "
                           "already bought"})
def buy_bundle(bundle_id: int):
    data = validate(schemas.BUY_BUNDLE, json_body())
    s = db.session()
    bundle = bundles.get_own(s, bundle_id, current_member())
    order = checkout.buy_bundle(s, current_member(), bundle,
                                payment_method=data["payment_method"],
                                idempotency_key=data["idempotency_key"])
    return jsonify({"order": _order_json(order), "bundle": schemas.bundle_json(s, bundle)}), \
        200 if order.replayed else 201


@api_route("/bundles/<int:bundle_id>/offers", "POST", summary="One offer for the whole "
           "bundle, below its discounted total; negotiated like any offer", tag=BUNDLES,
           body=schemas.MAKE_OFFER,
           responses={201: "the offer", 409: "empty, bought, an item gone, or an open "
                      "offer already", 422: "amount out of range"})
def make_bundle_offer(bundle_id: int):
    data = validate(schemas.MAKE_OFFER, json_body())
    s = db.session()
    bundle = bundles.get_own(s, bundle_id, current_member())
    offer = bundles.make_bundle_offer(s, current_member(), bundle, data["amount_paise"],
                                      data["payment_method"])
    return jsonify({"offer": schemas.offer_json(s, offer, current_member(),
                                                history=True)}), 201


def _optional_body() -> dict:
    """Accept may come with no body at all (the seller has nothing to add)."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def _order_json(order: Order) -> dict:
    return {"id": order.id, "status": order.status, "source": order.source,
            "items_total_paise": order.items_total_paise,
            "discount_paise": order.discount_paise, "shipping_paise": order.shipping_paise,
            "total_paise": order.total_paise,
            "items": [{"listing_id": item.listing_id, "price_paise": item.price_paise}
                      for item in order.items]}
