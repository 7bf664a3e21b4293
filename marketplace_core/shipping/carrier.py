"""The simulated PoshPost carrier that the demo and the tests use in place of the real one.

It writes tracking events as PoshPost would, signs them with the shared secret, and
delivers them through the real webhook handling, signature check included: over HTTP
(`http_transport(client)`, e.g. Flask's test client) or in process
(`in_process_transport`, which runs `webhook.receive` in its own unit of work exactly as
the view does; `flask carrier advance` uses it).
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from foundation import clock, db
from foundation.config import current as settings
from foundation.errors import Conflict, DomainError, NotFound
from marketplace_core.orders.models import Order
from marketplace_core.shipping import services, webhook
from marketplace_core.shipping.models import (
    PROGRESS,
    PROGRESS_STEPS,
    CarrierStatus,
    Direction,
    Shipment,
    ShipmentStatus,
)

WEBHOOK_PATH = "/api/v1/carrier/webhook"
LOCATIONS = {
    CarrierStatus.IN_TRANSIT: "PoshPost sorting hub",
    CarrierStatus.OUT_FOR_DELIVERY: "Local delivery centre",
    CarrierStatus.DELIVERED: "Delivered to the buyer",
    CarrierStatus.EXCEPTION: "PoshPost sorting hub",
}
# A returned parcel ends its journey at the seller's door.
RETURN_LOCATIONS = {**LOCATIONS, CarrierStatus.DELIVERED: "Delivered to the seller"}


@dataclass(frozen=True)
class Delivery:
    """The webhook's answer to one event."""
    status_code: int
    body: dict

    @property
    def ok(self) -> bool:
        return self.status_code == 200


Transport = Callable[[bytes, dict[str, str]], Delivery]


class CarrierRefused(Exception):
    def __init__(self, step: str, delivery: Delivery):
        error = delivery.body.get("error", {})
        super().__init__(f"the webhook refused the {step} event: {delivery.status_code} "
                         f"{error.get('code', '')}: {error.get('message', '')}")
        self.step = step
        self.delivery = delivery


def http_transport(client) -> Transport:
    """POST to the webhook with any client that has Flask's test-client `post`."""
    def send(body: bytes, headers: dict[str, str]) -> Delivery:
        response = client.post(WEBHOOK_PATH, data=body, headers=headers,
                               content_type="application/json")
        return Delivery(response.status_code, response.get_json(silent=True) or {})
    return send


def in_process_transport(body: bytes, headers: dict[str, str]) -> Delivery:
    """The view's work without HTTP: verify, record, commit (or roll back on refusal)."""
    try:
        with db.unit_of_work() as s:
            result = webhook.receive(s, body, headers.get(webhook.SIGNATURE_HEADER))
    except DomainError as exc:
        return Delivery(exc.status, exc.to_dict())
    return Delivery(200, result)


class SimulatedCarrier:
    def __init__(self, transport: Transport, secret: str | None = None):
        self.transport = transport
        self.secret = secret if secret is not None else settings().CARRIER_WEBHOOK_SECRET

    def event(self, tracking_number: str, status: str, *, at: datetime | None = None,
              event_id: str | None = None, location: str | None = None,
              description: str = "") -> dict:
        status = CarrierStatus(status)
        return {"id": event_id or f"evt_{secrets.token_hex(12)}",
                "tracking_number": tracking_number, "status": str(status),
                "occurred_at": (at or clock.now()).isoformat(),
                "location": LOCATIONS[status] if location is None else location,
                "description": description}

    @staticmethod
    def encode(event: dict) -> bytes:
        return json.dumps(event, separators=(",", ":")).encode()

    def headers_for(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        when = int(clock.now().timestamp()) if timestamp is None else timestamp
        return {webhook.SIGNATURE_HEADER: webhook.signature_header(self.secret, body, when)}

    def send(self, event: dict, *, timestamp: int | None = None) -> Delivery:
        body = self.encode(event)
        return self.transport(body, self.headers_for(body, timestamp))

    def scan(self, tracking_number: str, status: str, **kwargs) -> Delivery:
        return self.send(self.event(tracking_number, status, **kwargs))

    def advance(self, order_id: int, to: str, *,
                direction: Direction = Direction.OUTBOUND) -> list[tuple[str, Delivery]]:
        """Send the scans that take the order's parcel (the seller's, or the buyer's
        return with direction "return") from where it is to `to`, in order;
        CarrierRefused if the webhook refuses one (the earlier ones stay)."""
        tracking_number, steps = plan_steps(order_id, to, direction=direction)
        locations = RETURN_LOCATIONS if direction == Direction.RETURN else LOCATIONS
        sent = []
        for step in steps:
            delivery = self.scan(tracking_number, step,
                                 location=locations[CarrierStatus(str(step))])
            if not delivery.ok:
                raise CarrierRefused(step, delivery)
            sent.append((str(step), delivery))
        return sent


def plan_steps(order_id: int, to: str, *, direction: Direction = Direction.OUTBOUND
               ) -> tuple[str, list[ShipmentStatus]]:
    """The tracking number and the scans still needed to reach `to` (NotFound for an
    unknown order or one without such a label; Conflict for a voided label or a step
    back)."""
    target = ShipmentStatus(to)
    if target not in PROGRESS_STEPS:
        raise Conflict(f"The carrier cannot take a parcel to {to}.", code="impossible_step")
    with db.unit_of_work() as s:
        shipment = _label_of(s, order_id, Direction(direction))
        here = PROGRESS[shipment.status]
        if PROGRESS[target] <= here:
            parcel = "return parcel" if shipment.direction == Direction.RETURN else "parcel"
            raise Conflict(f"Order #{order_id}'s {parcel} is already {shipment.status}; it "
                           f"cannot go to {target}.", code="impossible_step")
        steps = [step for step in PROGRESS_STEPS if here < PROGRESS[step] <= PROGRESS[target]]
        return shipment.tracking_number, steps


def _label_of(s: Session, order_id: int, direction: Direction) -> Shipment:
    if s.get(Order, order_id) is None:
        raise NotFound(f"There is no order #{order_id}.")
    if direction == Direction.RETURN:
        shipment = services.return_shipment_for_order(s, order_id)
        missing = (f"Order #{order_id} has no return label.", "no_return_label")
        voided = f"Order #{order_id}'s return label was voided (the return was called off)."
    else:
        shipment = services.shipment_for_order(s, order_id)
        missing = (f"Order #{order_id} has no PoshPost label.", "no_shipment")
        voided = f"Order #{order_id}'s label was voided (the order was cancelled)."
    if shipment is None:
        raise NotFound(missing[0], code=missing[1])
    if shipment.status == ShipmentStatus.VOIDED:
        raise Conflict(voided, code="label_voided")
    return shipment
