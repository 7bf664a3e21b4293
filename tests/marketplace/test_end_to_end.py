"""A seller and a buyer, through the public API only: list, offer, counter, buy, label,
ship, deliver, accept, get paid -- and the ledger balances after every step."""
from datetime import timedelta

from foundation import clock, db, jobs
from foundation.config import current as settings
from marketplace_core.ledger.commission import CommissionRules, commission_for
from marketplace_core.ledger.invariants import check_invariants
from marketplace_core.shipping import webhook
from marketplace_core.shipping.carrier import SimulatedCarrier
from tests.builders.listings import live_listing
from tests.builders.members import register

PRICE = 600_000  # Rs 6,000


def ledger_balances() -> None:
    db.session.remove()
    assert check_invariants(db.session()) == []
    db.session.remove()


def order_money(client, order_id, member):
    body = client.get(f"/api/v1/orders/{order_id}", headers=member["headers"]).json
    assert body["held_paise"] + body["released_paise"] + body["refunded_paise"] \
        == body["captured_paise"]
    return body


def carrier_scan(client, tracking_number: str, status: str) -> None:
    carrier = SimulatedCarrier(transport=None, secret=settings().CARRIER_WEBHOOK_SECRET)
    body = carrier.encode(carrier.event(tracking_number, status))
    header = webhook.signature_header(settings().CARRIER_WEBHOOK_SECRET, body,
                                      int(clock.now().timestamp()))
    response = client.post("/api/v1/carrier/webhook", data=body, content_type="application/json",
                           headers={webhook.SIGNATURE_HEADER: header})
    assert response.status_code == 200, response.json


def test_a_sale_from_listing_to_payout(client):
    seller, buyer = register(client, "seller_e2e"), register(client, "buyer_e2e")
    start = clock.now()
    clock.freeze(start)
    listing = live_listing(client, seller, price_paise=PRICE)
    assert listing["status"] == "live"
    ledger_balances()

    offer = client.post(f"/api/v1/listings/{listing['id']}/offers", headers=buyer["headers"],
                        json={"amount_paise": 420_000, "payment_method": "test_upi_ok"})
    assert offer.status_code == 201, offer.json
    offer_id = offer.json["offer"]["id"]
    counter = client.post(f"/api/v1/offers/{offer_id}/counter", headers=seller["headers"],
                          json={"amount_paise": 510_000})
    assert counter.status_code == 200, counter.json
    accepted = client.post(f"/api/v1/offers/{offer_id}/accept", headers=buyer["headers"],
                           json={"payment_method": "test_card_ok"})
    assert accepted.status_code == 200, accepted.json
    order_id = accepted.json["order"]["id"]
    ledger_balances()

    shipping_fee = settings().ORDER_SHIPPING_FEE_PAISE
    placed = order_money(client, order_id, buyer)
    assert placed["status"] == "placed"
    assert placed["captured_paise"] == placed["held_paise"] == 510_000 + shipping_fee
    assert client.get(f"/api/v1/listings/{listing['id']}").status_code == 404  # sold

    shipment = client.get(f"/api/v1/orders/{order_id}/shipment", headers=seller["headers"])
    assert shipment.status_code == 200, shipment.json
    tracking = shipment.json["shipment"]["tracking_number"]

    clock.freeze(start + timedelta(hours=20))
    carrier_scan(client, tracking, "in_transit")
    assert order_money(client, order_id, buyer)["status"] == "shipped"
    ledger_balances()
    clock.freeze(start + timedelta(days=2))
    carrier_scan(client, tracking, "delivered")
    assert order_money(client, order_id, buyer)["status"] == "delivered"
    ledger_balances()

    clock.freeze(start + timedelta(days=2, hours=5))
    accepted_order = client.post(f"/api/v1/orders/{order_id}/accept", headers=buyer["headers"])
    assert accepted_order.status_code == 200, accepted_order.json
    done = order_money(client, order_id, seller)
    assert done["status"] == "completed" and done["held_paise"] == 0
    assert done["released_paise"] == done["captured_paise"]
    earned = 510_000 - commission_for(510_000, CommissionRules.from_settings(settings()))
    balance = client.get("/api/v1/me/balance", headers=seller["headers"]).json["balance"]
    assert balance["available_paise"] == earned
    ledger_balances()

    account = client.put("/api/v1/me/payout-account", headers=seller["headers"],
                         json={"account_number": "501000012345", "ifsc": "HDFC0001234"})
    assert account.status_code == 200, account.json
    clock.freeze(start + timedelta(days=3))
    jobs.beat_once()          # the scheduled payout run, as a worker's beat would start it
    jobs.run_pending()        # ...and the worker runs it and the bank transfer it queues
    jobs.run_pending()
    payouts = client.get("/api/v1/me/payouts", headers=seller["headers"]).json["items"]
    assert [(p["amount_paise"], p["state"]) for p in payouts] == [(earned, "paid")]
    balance = client.get("/api/v1/me/balance", headers=seller["headers"]).json["balance"]
    assert balance == {"available_paise": 0, "pending_paise": 0, "in_flight_paise": 0}
    ledger_balances()
