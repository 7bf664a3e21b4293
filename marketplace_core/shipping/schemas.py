"""Request schemas and JSON shapes for shipments and the carrier's events."""
from __future__ import annotations

from datetime import datetime

from flask import url_for

from marketplace_core.shipping import labels
from marketplace_core.shipping.models import CarrierStatus, Shipment, TrackingEvent

UPGRADE = {"type": "object", "required": ["tier"], "properties": {
    "tier": {"type": "string", "minLength": 1, "maxLength": 24,
             "description": "a heavier label tier than the current one (see the "
                            "shipment's upgrade_options)"}}}

CARRIER_EVENT = {"type": "object",
                 "required": ["id", "tracking_number", "status", "occurred_at"],
                 "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "[A-Za-z0-9_.:-]+",
           "x-pattern-message": "letters, digits and _ . : - only",
           "description": "the carrier's event id: a redelivery with the same id is ignored"},
    "tracking_number": {"type": "string", "pattern": "PP[0-9]{9}IN",
                        "x-pattern-message": "a PoshPost tracking number"},
    "status": {"type": "string", "enum": list(CarrierStatus)},
    "occurred_at": {"type": "string", "minLength": 10, "maxLength": 40,
                    "description": "ISO 8601 with a zone: when the scan happened"},
    "location": {"type": "string", "maxLength": 80},
    "description": {"type": "string", "maxLength": 200},
}}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def event_json(event: TrackingEvent) -> dict:
    return {"kind": event.kind, "source": event.source, "occurred_at": _iso(event.occurred_at),
            "location": event.location, "description": event.description,
            "status_after": event.to_status}


def tier_json(tier) -> dict:
    return {"tier": tier.name, "max_grams": tier.max_grams,
            "surcharge_paise": tier.surcharge_paise}


def shipment_json(shipment: Shipment, events: list[TrackingEvent], *, for_seller: bool,
                  ship_by: datetime | None, expected_delivery: datetime | None,
                  upgrade_options: list) -> dict:
    body = {
        "order_id": shipment.order_id, "carrier": labels.CARRIER_NAME,
        "status": shipment.status, "tracking_number": shipment.tracking_number,
        "label": {"number": shipment.label_number, "tier": shipment.tier,
                  "weight_grams": shipment.weight_grams,
                  "created_at": _iso(shipment.label_created_at),
                  "voided_at": _iso(shipment.voided_at)},
        "ship_by": _iso(ship_by), "first_scan_at": _iso(shipment.first_scan_at),
        "expected_delivery_at": _iso(expected_delivery),
        "delivered_at": _iso(shipment.delivered_at),
        "exception": shipment.exception_at is not None,
        "events": [event_json(e) for e in events],
    }
    if for_seller:
        body["label"]["surcharge_paise"] = shipment.surcharge_paise
        body["label"]["document_url"] = url_for("api.shipping_label_document",
                                                order_id=shipment.order_id)
        body["late"] = shipment.late_flagged_at is not None
        body["upgrade_options"] = [tier_json(t) for t in upgrade_options]
    return body


def return_shipment_json(shipment: Shipment, events: list[TrackingEvent], *, for_buyer: bool,
                         expected_delivery: datetime | None) -> dict:
    """A return parcel for the order's buyer (who ships it, and prints the label) and
    seller (who receives it).  The platform pays it, so there are no costs to show."""
    body = {
        "order_id": shipment.order_id, "direction": shipment.direction,
        "carrier": labels.CARRIER_NAME, "status": shipment.status,
        "tracking_number": shipment.tracking_number,
        "label": {"number": shipment.label_number, "tier": shipment.tier,
                  "weight_grams": shipment.weight_grams,
                  "created_at": _iso(shipment.label_created_at),
                  "voided_at": _iso(shipment.voided_at)},
        "first_scan_at": _iso(shipment.first_scan_at),
        "expected_delivery_at": _iso(expected_delivery),
        "delivered_at": _iso(shipment.delivered_at),
        "exception": shipment.exception_at is not None,
        "events": [event_json(e) for e in events],
    }
    if for_buyer:
        body["label"]["document_url"] = url_for("api.shipping_return_label_document",
                                                order_id=shipment.order_id)
    return body
