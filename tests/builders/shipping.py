"""Sales through the public API with their PoshPost shipments, read back in a fresh
session, and the simulated carrier that scans them."""
from __future__ import annotations

from sqlalchemy import select

from foundation import db, jobs
from marketplace_core.shipping import tasks
from marketplace_core.shipping.carrier import (
    SimulatedCarrier,
    http_transport,
    in_process_transport,
)
from marketplace_core.shipping.models import Shipment, TrackingEvent
from tests.builders import API
from tests.builders.listings import live_listing
from tests.builders.members import register

PRICE = 450_000          # Rs 4,500
COMMISSION = 90_000      # 20%


def make_sale(client, *, price: int = PRICE, weight: int = 500) -> dict:
    """A seller, a buyer and a buy-now order through the public API."""
    seller, buyer = register(client), register(client)
    listing = live_listing(client, seller, price_paise=price, weight_grams=weight)
    response = client.post(f"{API}/orders", json={"listing_id": listing["id"],
                                                  "payment_method": "test_card_ok"},
                           headers=buyer["headers"])
    assert response.status_code == 201, response.json
    return {"order_id": response.json["id"], "seller": seller, "buyer": buyer}


def get_shipment(client, sale: dict, who: str = "seller"):
    return client.get(f"{API}/orders/{sale['order_id']}/shipment",
                      headers=sale[who]["headers"])


def shipment_of(order_id: int, direction: str = "outbound") -> Shipment:
    with db.unit_of_work() as s:
        shipment = s.scalar(select(Shipment).where(Shipment.order_id == order_id,
                                                   Shipment.direction == direction))
        s.expunge(shipment)
        return shipment


def tracking_events(order_id: int, source: str | None = None,
                    direction: str = "outbound") -> list[TrackingEvent]:
    with db.unit_of_work() as s:
        query = (select(TrackingEvent).join(Shipment)
                 .where(Shipment.order_id == order_id, Shipment.direction == direction)
                 .order_by(TrackingEvent.id))
        if source:
            query = query.where(TrackingEvent.source == source)
        rows = s.scalars(query).all()
        s.expunge_all()
        return list(rows)


def carrier_for(client, secret: str | None = None) -> SimulatedCarrier:
    """The simulated carrier, posting its scans to the webhook through the test client."""
    return SimulatedCarrier(http_transport(client), secret)


def carrier() -> SimulatedCarrier:
    """The simulated carrier, posting its scans to the webhook's code in-process."""
    return SimulatedCarrier(in_process_transport)


def sweep_late_shipments() -> None:
    tasks.flag_late_shipments.enqueue_now()
    jobs.run_pending()
