"""Cases for the review queues: listings waiting for authentication (their authentication
requests), and delivered orders with dispute cases opened, answered and claimed through the
disputes services."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from authentication import claims as auth_claims
from authentication import decisions as auth_decisions
from authentication.models import Verdict, checklist_for
from disputes import claims, opening, responses
from disputes.evidence import Upload
from foundation import clock, db
from foundation.staff.models import StaffUser
from marketplace_core.listings.photos import store_upload
from marketplace_core.members.models import Member
from tests.builders.listings import listing_through_services
from tests.builders.listings import live_listing as live_listing_through_api
from tests.builders.members import make_member
from tests.builders.orders import PRICE, Sale, live_listing, new_sale, place
from tests.builders.photos import jpeg_bytes, next_seed, photo
from tests.builders.shipping import carrier

# --- listings waiting for authentication ------------------------------------------------

HIGH = 5_000_000            # Rs 50,000: reviewed, below every second-review price
VERY_HIGH = 15_000_000      # Rs 1,50,000: seniors only
TOP = 25_000_000            # Rs 2,50,000: an authentic verdict needs a second reviewer
_listing_seeds = itertools.count(100)


def pending_listing(client, owner: dict, price_paise: int = HIGH, **fields) -> dict:
    """A listing published through the API at a price that sends it to authentication."""
    listing = live_listing_through_api(client, owner, seed=next(_listing_seeds),
                                       price_paise=price_paise, **fields)
    assert listing["status"] == "pending_authentication"
    return listing


# --- delivered orders ---------------------------------------------------------------------

DELIVERED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
_keys = itertools.count(1)
_photo_sales = itertools.count(1)


@dataclass(frozen=True)
class Delivered:
    order_id: int
    buyer_id: int
    seller_id: int


def deliver(order_ids: list[int], delivered_at: datetime) -> None:
    """The carrier scans each order's parcel in transit a day before `delivered_at`, then
    delivered (through the tracking webhook's code, so that a return label can be issued)."""
    clock.freeze(delivered_at - timedelta(days=1))
    for order_id in order_ids:
        carrier().advance(order_id, "in_transit")
    clock.freeze(delivered_at)
    for order_id in order_ids:
        carrier().advance(order_id, "delivered")


def delivered_order(price: int | None = None, *, delivered_at: datetime = DELIVERED,
                    ) -> Delivered:
    """A placed order whose PoshPost parcel the carrier delivered at `delivered_at`."""
    clock.freeze(delivered_at - timedelta(days=2))
    sale = new_sale(price) if price else new_sale()
    order_id = place(sale)
    deliver([order_id], delivered_at)
    return Delivered(order_id, sale.buyer, sale.seller)


def delivered_orders(count: int, *, delivered_at: datetime = DELIVERED) -> list[Delivered]:
    """`count` orders of one buyer from one seller, each delivered by the carrier at
    `delivered_at` (members are slow to make: their passwords are hashed)."""
    clock.freeze(delivered_at - timedelta(days=2))
    sale = new_sale()
    order_ids = [place(sale)]
    for _ in range(count - 1):
        listing = live_listing(sale.seller, title=f"Paithani saree {next(_keys)}")
        order_ids.append(place(Sale(buyer=sale.buyer, seller=sale.seller, listing=listing)))
    deliver(order_ids, delivered_at)
    return [Delivered(order_id, sale.buyer, sale.seller) for order_id in order_ids]


def _listing_with_stored_photo(seller: int, fields: dict, seed: int) -> int:
    """A listing whose photo is a real JPEG in the media store, so that pages showing it
    (sold) can serve its pixels."""
    stored = store_upload(jpeg_bytes(seed), "image/jpeg")
    return listing_through_services(seller, fields, media_key=stored.key,
                                    width=stored.width, height=stored.height)


def delivered_order_with_photo(price: int = 150_000, *, title: str = "Banarasi silk saree",
                               delivered_at: datetime = DELIVERED) -> Delivered:
    """delivered_order, but the listing's photo is a real JPEG in the media store."""
    n = next(_photo_sales)
    clock.freeze(delivered_at - timedelta(days=2))
    seller, buyer = make_member(f"photoseller{n}"), make_member(f"photobuyer{n}")
    listing = _listing_with_stored_photo(seller, {
        "title": title, "brand": "Nalli", "category": "sarees", "size": "Free size",
        "condition": "like_new", "price_paise": price, "weight_grams": 500}, seed=900 + n)
    order_id = place(Sale(buyer=buyer, seller=seller, listing=listing))
    deliver([order_id], delivered_at)
    return Delivered(order_id, buyer, seller)


def sold_and_delivered(price: int | None = None, *, buyer_id: int | None = None,
                       delivered_at: datetime = DELIVERED,
                       authenticator: int | None = None) -> Delivered:
    """Like delivered_order, but the listing's photo is a real stored JPEG (so the sold
    item's photos can be served), the buyer may be an existing member, and a listing
    above the authentication threshold is first passed by `authenticator` (a senior
    authenticator's staff id)."""
    clock.freeze(delivered_at - timedelta(days=2))
    n = next(_keys)
    seller = make_member(f"caseseller{n}")
    buyer = buyer_id or make_member(f"casebuyer{n}")
    listing = _listing_with_stored_photo(seller, {
        "title": "Kanjivaram silk saree", "brand": "Nalli", "category": "sarees",
        "size": "Free size", "condition": "like_new", "price_paise": price or PRICE,
        "weight_grams": 600}, seed=next_seed())
    if authenticator is not None:
        decide_authentication(authenticator, listing_id=listing)
    order_id = place(Sale(buyer=buyer, seller=seller, listing=listing))
    deliver([order_id], delivered_at)
    return Delivered(order_id, buyer, seller)


def decide_authentication(staff_id: int, queue: str = "review",
                          verdict: Verdict = Verdict.AUTHENTIC,
                          reason: str = "all_points_consistent",
                          listing_id: int | None = None) -> int:
    """The staff member claims the next request of `queue` (of `listing_id` where given) and
    decides it through the authentication services: every checklist point passes, but the
    first fails for a counterfeit verdict.  Returns the request's id."""
    with db.unit_of_work() as s:
        reviewer = s.get(StaffUser, staff_id)
        request = auth_claims.claim_next(s, reviewer, queue)
        assert request is not None, f"nothing to claim in {queue}"
        assert listing_id is None or request.listing_id == listing_id, request
        points = checklist_for(request.category)
        checklist = {point: "pass" for point in points}
        if verdict == Verdict.COUNTERFEIT:
            checklist[points[0]] = "fail"
        auth_decisions.decide(s, reviewer, request, request.lease_token, auth_decisions.Decision(
            verdict=verdict, reason=reason, checklist=checklist))
        return request.id


# --- dispute cases ------------------------------------------------------------------------

def open_case(order: Delivered, reason: str = "not_as_described",
              description: str = "The saree has a tear along the pallu.",
              photos: list[Upload] | None = None) -> int:
    with db.unit_of_work() as s:
        case = opening.open_case(s, s.get(Member, order.buyer_id), order.order_id,
                                 reason=reason, description=description,
                                 photos=[photo()] if photos is None else photos)
        return case.id


def as_member(fn, member_id: int, case_id: int, **kwargs):
    with db.unit_of_work() as s:
        return fn(s, s.get(Member, member_id), case_id, **kwargs).state


def seller_responds(order: Delivered, case_id: int, body: str = "It was perfect when sent."):
    return as_member(responses.respond, order.seller_id, case_id, body=body, photos=[])


def cases_under_review(count: int) -> list[int]:
    """`count` answered cases, the first opened first (so claimed first); the clock is left
    an hour after the last was opened."""
    ids = []
    for n in range(count):
        order = delivered_order()
        clock.freeze(DELIVERED + timedelta(days=1, minutes=n))
        case_id = open_case(order)
        seller_responds(order, case_id)
        ids.append(case_id)
    clock.freeze(DELIVERED + timedelta(days=1, hours=1))
    return ids


def claim(staff_id: int, queue: str = "review") -> tuple[int, str] | None:
    with db.unit_of_work() as s:
        case = claims.claim_next(s, s.get(StaffUser, staff_id), queue)
        return (case.id, case.lease_token) if case else None


def case_under_review(staff, price: int | None = None, reason: str = "not_as_described",
                      ) -> tuple[Delivered, int, int, str]:
    """A delivered order, its case answered by the seller and claimed by a new support
    agent: (order, case id, agent id, lease token)."""
    order = delivered_order(price)
    clock.freeze(DELIVERED + timedelta(days=1))
    case_id = open_case(order, reason=reason)
    seller_responds(order, case_id)
    agent = staff("support_agent")[0]
    claimed = claim(agent)
    assert claimed is not None and claimed[0] == case_id, claimed
    return order, case_id, agent, claimed[1]
