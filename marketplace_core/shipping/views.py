"""Shipping API: the carrier's signed webhook, and an order's shipment and return
shipment for its buyer and seller."""
from __future__ import annotations

from flask import Response, jsonify, request

from foundation import db
from foundation.errors import Conflict, PayloadTooLarge, PermissionDenied
from foundation.schema import validate
from foundation.web import json_body
from marketplace_core.api import api_route, current_member
from marketplace_core.members.models import Member
from marketplace_core.shipping import document, schemas, services, webhook
from marketplace_core.shipping.models import Shipment, ShipmentStatus

TAG = "Shipping"
CARRIER_TAG = "Carrier"


def _shipment_body(shipment: Shipment, order) -> dict:
    s = db.session()
    for_seller = current_member().id == order.seller_id
    return schemas.shipment_json(
        shipment, services.timeline(s, shipment, for_seller=for_seller),
        for_seller=for_seller, ship_by=services.ship_by(shipment),
        expected_delivery=services.expected_delivery(shipment),
        upgrade_options=services.upgrade_options(shipment))


@api_route("/carrier/webhook", "POST", summary="PoshPost tracking events, signed with "
           "HMAC-SHA256: X-PoshPost-Signature: t=<unix seconds>,v1=<hex of "
           "HMAC(secret, '<t>.' + body)>", tag=CARRIER_TAG, auth="none",
           body=schemas.CARRIER_EVENT,
           responses={200: "recorded (duplicate: true when this event id was seen before; "
                           "applied: false when a later scan had already arrived)",
                      400: "malformed signature header or body",
                      401: "signature missing, invalid or older than 5 minutes",
                      404: "unknown tracking number",
                      409: "the label was voided, or the event id was reused",
                      413: "body too large", 422: "bad fields or event time"})
def carrier_webhook():
    if (request.content_length or 0) > webhook.MAX_BODY_BYTES:
        raise PayloadTooLarge(f"An event is at most {webhook.MAX_BODY_BYTES} bytes.")
    body = request.get_data(cache=False)
    result = webhook.receive(db.session(), body, request.headers.get(webhook.SIGNATURE_HEADER))
    return jsonify(result)


@api_route("/orders/<int:order_id>/shipment", "GET", summary="An order's shipment for its "
           "buyer or seller: label, tracking number, timeline, expected delivery", tag=TAG,
           responses={404: "no such order, not yours, or no shipment"})
def get_shipment(order_id: int):
    order, shipment = services.get_for_participant(db.session(), order_id, current_member())
    return jsonify({"shipment": _shipment_body(shipment, order)})


@api_route("/orders/<int:order_id>/shipment/upgrade", "POST", summary="Seller: swap the "
           "label for a heavier tier before shipping (the surcharge comes out of your "
           "earnings)", tag=TAG, body=schemas.UPGRADE,
           responses={200: "the shipment with its new label", 403: "not the seller",
                      409: "already scanned or voided",
                      422: "unknown tier, not heavier, or costs more than the sale earns"})
def upgrade_label(order_id: int):
    data = validate(schemas.UPGRADE, json_body())
    s = db.session()
    order, _ = services.get_for_participant(s, order_id, current_member())
    shipment = services.upgrade_label(s, order, current_member(), data["tier"])
    return jsonify({"shipment": _shipment_body(shipment, order)})


@api_route("/orders/<int:order_id>/shipment/label", "GET", summary="Seller: the printable "
           "label (SVG, 4 x 6 inches)", tag=TAG,
           responses={200: "image/svg+xml", 403: "not the seller",
                      409: "the label was voided"})
def label_document(order_id: int):
    s = db.session()
    order, shipment = services.get_for_participant(s, order_id, current_member())
    if current_member().id != order.seller_id:
        raise PermissionDenied("Only the seller prints the label.", code="not_seller")
    if shipment.status == ShipmentStatus.VOIDED:
        raise Conflict("This label was voided (the order was cancelled).",
                       code="label_voided")
    svg = document.label_svg(shipment, s.get(Member, order.seller_id),
                             s.get(Member, order.buyer_id))
    return _svg_response(svg, shipment)


@api_route("/orders/<int:order_id>/return-shipment", "GET", summary="An order's return "
           "parcel (the prepaid label a not-as-described case gives the buyer) for its "
           "buyer or seller: tracking number, timeline, expected delivery", tag=TAG,
           responses={404: "no such order, not yours, or no return label "
                           "(code no_return_label)"})
def get_return_shipment(order_id: int):
    order, shipment = services.get_return_for_participant(db.session(), order_id,
                                                           current_member())
    for_buyer = current_member().id == order.buyer_id
    body = schemas.return_shipment_json(
        shipment, services.timeline(db.session(), shipment, for_seller=not for_buyer),
        for_buyer=for_buyer, expected_delivery=services.expected_delivery(shipment))
    return jsonify({"shipment": body})


@api_route("/orders/<int:order_id>/return-label", "GET", summary="Buyer: the printable "
           "prepaid return label (SVG, 4 x 6 inches)", tag=TAG,
           responses={200: "image/svg+xml", 403: "not the buyer",
                      404: "no such order, not yours, or no return label",
                      409: "the return label was voided"})
def return_label_document(order_id: int):
    s = db.session()
    order, shipment = services.get_return_for_participant(s, order_id, current_member())
    if current_member().id != order.buyer_id:
        raise PermissionDenied("Only the buyer prints the return label.", code="not_buyer")
    if shipment.status == ShipmentStatus.VOIDED:
        raise Conflict("This return label was voided.", code="label_voided")
    svg = document.label_svg(shipment, s.get(Member, order.seller_id),
                             s.get(Member, order.buyer_id))
    return _svg_response(svg, shipment)


def _svg_response(svg: str, shipment: Shipment) -> Response:
    return Response(svg, mimetype="image/svg+xml", headers={
        "Content-Disposition": f'inline; filename="poshpost-{shipment.tracking_number}.svg"',
        "Cache-Control": "private, no-store"})
