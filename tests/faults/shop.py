"""The marketplace's money paths, driven through the services in this process on the real
clock (the workers in other processes have no frozen clock to share): members, listings,
checkout, the simulated carrier, cancellation, acceptance, dispute cases to each outcome,
and payout runs.  The fault tests and `bench/faults.py` share it."""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select

from disputes import claims, decisions, opening, responses
from disputes.evidence import Upload
from foundation import db, jobs
from foundation.config import Settings
from foundation.staff import services as staff_services
from foundation.staff.models import StaffUser
from marketplace_core.ledger import services as ledger
from marketplace_core.listings import services as listing_services
from marketplace_core.listings.models import Listing
from marketplace_core.listings.photos import store_upload
from marketplace_core.media._opencv import cv2
from marketplace_core.members import services as member_services
from marketplace_core.members.models import Member
from marketplace_core.orders import payouts
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport

PRICE = 100_000            # Rs 1,000: under the authentication gate and the approval bar
_names = itertools.count(1)
_seeds = itertools.count(7_000)


def jpeg_bytes(seed: int) -> bytes:
    """A photo-like JPEG, different for every seed."""
    rng = np.random.default_rng(seed)
    image = np.full((640, 480, 3), rng.integers(120, 230, 3), np.uint8)
    for _ in range(6):
        centre = (int(rng.integers(0, 480)), int(rng.integers(0, 640)))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(image, centre, int(rng.integers(20, 120)), colour, -1)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


@dataclass(frozen=True)
class Sale:
    order_id: int
    buyer_id: int
    seller_id: int


def member(prefix: str = "m") -> int:
    name = f"{prefix}{next(_names)}{secrets.token_hex(3)}"
    with db.unit_of_work() as s:
        return member_services.register(s, email=f"{name}@example.in", username=name,
                                        password="a-long-password").id


def staff_member(settings: Settings, role: str = "support_agent") -> int:
    with db.unit_of_work() as s:
        return staff_services.create_staff(
            s, settings, email=f"{role}{next(_names)}{secrets.token_hex(3)}@staff.test",
            role=role, password="Correct-Horse-Battery-Staple-9").id


def listing(seller_id: int, price: int = PRICE, *, real_photo: bool = False) -> int:
    """A live listing with one photo: real stored pixels (so that vision can sign it) when
    `real_photo`, else a key nobody reads (no image work in money tests)."""
    photo = store_upload(jpeg_bytes(next(_seeds)), "image/jpeg") if real_photo else None
    with db.unit_of_work() as s:
        seller = s.get(Member, seller_id)
        row = listing_services.create_draft(s, seller, {
            "title": f"Banarasi silk saree {next(_names)}", "brand": "Nalli",
            "category": "sarees", "size": "Free size", "condition": "like_new",
            "price_paise": price, "weight_grams": 500})
        listing_services.add_photo(s, seller, row,
                                   media_key=photo.key if photo else secrets.token_hex(32),
                                   width=photo.width if photo else 800,
                                   height=photo.height if photo else 1000)
        listing_services.publish(s, seller, row)
        return row.id


def add_photo(seller_id: int, listing_id: int) -> int:
    """Upload one more real photo to a listing; its id."""
    photo = store_upload(jpeg_bytes(next(_seeds)), "image/jpeg")
    with db.unit_of_work() as s:
        return listing_services.add_photo(s, s.get(Member, seller_id),
                                          s.get(Listing, listing_id), media_key=photo.key,
                                          width=photo.width, height=photo.height).id


def sale(price: int = PRICE, *, seller_id: int | None = None,
         buyer_id: int | None = None) -> Sale:
    """A new listing bought at checkout (the order placed, the payment captured)."""
    seller_id = seller_id or member("seller")
    buyer_id = buyer_id or member("buyer")
    listing_id = listing(seller_id, price)
    with db.unit_of_work() as s:
        row = s.get(Listing, listing_id)
        order = orders.place_order(s, s.get(Member, buyer_id), [(row, row.price_paise)],
                                   source="buy_now", payment_method="test_upi_ok",
                                   idempotency_key=secrets.token_hex(8))
        return Sale(order.id, buyer_id, seller_id)


def deliver(sale: Sale) -> None:
    """The carrier scans the parcel up to delivered (through the webhook's code)."""
    SimulatedCarrier(in_process_transport).advance(sale.order_id, "delivered")


def cancel(sale: Sale) -> None:
    """The buyer cancels within the accidental-purchase window: a full refund."""
    with db.unit_of_work() as s:
        orders.cancel_by_buyer(s, s.get(Order, sale.order_id), s.get(Member, sale.buyer_id),
                               "ordered the wrong size")


def accept(sale: Sale) -> None:
    with db.unit_of_work() as s:
        orders.accept(s, s.get(Order, sale.order_id), s.get(Member, sale.buyer_id))


def close_case(sale: Sale, agent_id: int, outcome: str, refund_paise: int | None = None
               ) -> None:
    """Open a case on a delivered order, the seller answers, the agent claims it and
    decides: refund_without_return, split (with `refund_paise`) or release_to_seller."""
    with db.unit_of_work() as s:
        case = opening.open_case(s, s.get(Member, sale.buyer_id), sale.order_id,
                                 reason="not_as_described",
                                 description="The saree has a tear along the pallu.",
                                 photos=[Upload(jpeg_bytes(next(_seeds)), "image/jpeg")])
        case_id = case.id
    with db.unit_of_work() as s:
        responses.respond(s, s.get(Member, sale.seller_id), case_id,
                          body="It was perfect when sent.", photos=[])
    with db.unit_of_work() as s:
        claimed = claims.claim_next(s, s.get(StaffUser, agent_id), "review")
        assert claimed is not None and claimed.id == case_id, (claimed, case_id)
        token = claimed.lease_token
    reasons = {"refund_without_return": "missing_item", "split": "minor_damage",
               "release_to_seller": "as_described"}
    body = {"outcome": outcome, "reason": reasons[outcome], "note": "Checked.",
            "idempotency_key": secrets.token_hex(8)}
    if refund_paise is not None:
        body["refund_paise"] = refund_paise
    with db.unit_of_work() as s:
        decisions.decide(s, s.get(StaffUser, agent_id), case_id,
                         decisions.parse_decision(body), token)


def set_bank_account(seller_id: int) -> None:
    with db.unit_of_work() as s:
        payouts.set_payout_account(s, s.get(Member, seller_id),
                                   account_number=f"5{seller_id:011d}", ifsc="HDFC0001234")


def run_payouts() -> None:
    """The beat's payout run, in the job wrapper as a worker runs it (its deliveries go
    to the workers through Redis after it commits)."""
    jobs.execute("marketplace_core.orders.tasks.run_payouts", [], {})


def ledger_refunds() -> dict[int, int]:
    """What the books say each order refunded (cancellations, case refunds, splits)."""
    with db.unit_of_work() as s:
        return {order_id: refunded for order_id in s.scalars(select(Order.id))
                if (refunded := ledger.order_money(s, order_id)["refunded_paise"]) > 0}


def books_problems() -> list:
    with db.unit_of_work() as s:
        return list(ledger.check_invariants(s))


def count_rows(model, *conditions) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
