"""Building delivered orders and driving cases through the disputes services."""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from disputes import claims, decisions, evidence, opening, responses
from disputes.evidence import Upload
from disputes.models import CaseEvent, DisputeCase
from foundation import clock, config, db, jobs
from foundation.staff.models import StaffUser
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.members.models import Member
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport
from marketplace_core.shipping.models import Direction
from tests.marketplace.api_helpers import jpeg_bytes
from tests.marketplace.test_orders import Sale, live_listing, new_sale, place

DELIVERED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
_keys = itertools.count(1)
_photo_seeds = itertools.count(500)


@dataclass(frozen=True)
class Delivered:
    order_id: int
    buyer_id: int
    seller_id: int


def delivered_order(price: int | None = None, *, delivered_at: datetime = DELIVERED,
                    ) -> Delivered:
    """A placed order whose PoshPost parcel the carrier delivered at `delivered_at`
    (through the tracking webhook, as in production, so that a return label can be
    issued for it)."""
    clock.freeze(delivered_at - timedelta(days=2))
    sale = new_sale(price) if price else new_sale()
    order_id = place(sale)
    clock.freeze(delivered_at - timedelta(days=1))
    carrier().advance(order_id, "in_transit")
    clock.freeze(delivered_at)
    carrier().advance(order_id, "delivered")
    return Delivered(order_id, sale.buyer, sale.seller)


def carrier() -> SimulatedCarrier:
    """The simulated carrier, posting its scans to the webhook's code in-process."""
    return SimulatedCarrier(in_process_transport)


def photo(seed: int | None = None) -> Upload:
    return Upload(jpeg_bytes(next(_photo_seeds) if seed is None else seed), "image/jpeg")


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


def claim(staff_id: int, queue: str = "review") -> tuple[int, str] | None:
    with db.unit_of_work() as s:
        case = claims.claim_next(s, s.get(StaffUser, staff_id), queue)
        return (case.id, case.lease_token) if case else None


def decide(staff_id: int, case_id: int, token: str | None, outcome: str, reason: str,
           **extra) -> decisions.DecisionResult:
    body = {"outcome": outcome, "reason": reason, "note": extra.pop("note", "Checked."),
            "idempotency_key": extra.pop("key", f"key-{next(_keys)}"), **extra}
    with db.unit_of_work() as s:
        result = decisions.decide(s, s.get(StaffUser, staff_id), case_id,
                                  decisions.parse_decision(body), token)
        s.flush()
        return result


def case_row(case_id: int) -> DisputeCase:
    s = db.session()
    try:
        case = s.get(DisputeCase, case_id)
        s.expunge(case)
        return case
    finally:
        db.session.remove()


def state_of(case_id: int) -> str:
    return case_row(case_id).state


def money(order_id: int) -> dict[str, int]:
    with db.unit_of_work() as s:
        return ledger.order_money(s, order_id)


def case_ids() -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(DisputeCase.id).order_by(DisputeCase.id)))


# --- reading a case back (fresh sessions) ---------------------------------------------------

def messages(case_id: int, *, include_staff_notes: bool = True) -> list:
    with db.unit_of_work() as s:
        rows = evidence.messages_of(s, case_id, include_staff_notes=include_staff_notes)
        s.expunge_all()
        return rows


def photos(case_id: int) -> list:
    with db.unit_of_work() as s:
        rows = evidence.photos_of(s, case_id)
        s.expunge_all()
        return rows


def case_events(case_id: int) -> list[tuple[str | None, str, str]]:
    """(from_state, to_state, reason) of every event of the case, in order."""
    with db.unit_of_work() as s:
        return [(e.from_state, e.to_state, e.reason) for e in s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


def case_money_moves(order_id: int) -> dict[str, int]:
    """How many ledger transactions of each closing kind the order has."""
    with db.unit_of_work() as s:
        rows = s.execute(select(LedgerTransaction.kind, func.count(LedgerTransaction.id))
                         .where(LedgerTransaction.order_id == order_id,
                                LedgerTransaction.kind.in_(CLOSING_KINDS))
                         .group_by(LedgerTransaction.kind)).all()
        return {kind: count for kind, count in rows}


CLOSING_KINDS = ("release", "refund", "split")


# --- driving a case -----------------------------------------------------------------------

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


def respond(member_id: int, case_id: int, body: str = "Here is more.",
            photos: list[Upload] | None = None) -> str:
    return as_member(responses.respond, member_id, case_id, body=body, photos=photos or [])


def withdraw(order: Delivered, case_id: int) -> str:
    return as_member(responses.withdraw, order.buyer_id, case_id)


def accept_return(order: Delivered, case_id: int) -> str:
    return as_member(responses.accept_return, order.seller_id, case_id)


def inspect(order: Delivered, case_id: int, accept: bool, body: str | None = None,
            photos: list[Upload] | None = None) -> str:
    if not accept and photos is None:
        photos = [photo()]
    return as_member(responses.inspect, order.seller_id, case_id, accept=accept,
                     body=body if body is not None or accept else "Not the item I sent.",
                     photos=photos or [])


def return_scan(order_id: int, to: str) -> None:
    """The carrier scans the buyer's return parcel up to `to` (in_transit, delivered)."""
    carrier().advance(order_id, to, direction=Direction.RETURN)


def approve(lead_id: int, case_id: int, token: str, approve: bool = True,
            note: str | None = None) -> decisions.DecisionResult:
    with db.unit_of_work() as s:
        return decisions.review_approval(s, s.get(StaffUser, lead_id), case_id,
                                         approve=approve, note=note, lease_token=token)


def sweep() -> dict[str, int]:
    """The disputes sweep runs once in the job wrapper (as the beat's worker runs it) and
    the worker then runs the timer jobs it enqueued; returns the sweep's counts."""
    counts = jobs.execute("disputes.tasks.sweep_disputes", [], {})
    jobs.run_pending()
    return counts


def failed_jobs() -> list[str]:
    """The errors of the jobs that failed, for good or on a try RQ will retry (a test that
    runs jobs expects none)."""
    health = jobs.health()
    return [job["error"] for job in health["failed_jobs"] + health["retrying_jobs"]]


@contextlib.contextmanager
def settings_changed(**changes):
    """Run with some settings changed (config.install), restored afterwards."""
    before = config.current()
    config.install(dataclasses.replace(before, **changes))
    try:
        yield
    finally:
        config.install(before)


# --- a sale whose listing photo is really stored (the console shows and serves it) ----------

_photo_sales = itertools.count(1)


def delivered_order_with_photo(price: int = 150_000, *, title: str = "Banarasi silk saree",
                               delivered_at: datetime = DELIVERED) -> Delivered:
    """delivered_order, but the listing's photo is a real JPEG in the media store, so that
    pages showing the listing as sold can serve its pixels."""
    # Imported here so that this appended helper leaves the module's imports as they were.
    from marketplace_core.listings.photos import store_upload
    from tests.marketplace.db_helpers import listing_through_services
    from tests.marketplace.test_orders import Sale, make_member

    n = next(_photo_sales)
    clock.freeze(delivered_at - timedelta(days=2))
    seller, buyer = make_member(f"photoseller{n}"), make_member(f"photobuyer{n}")
    stored = store_upload(jpeg_bytes(900 + n), "image/jpeg")
    listing = listing_through_services(seller, {
        "title": title, "brand": "Nalli", "category": "sarees", "size": "Free size",
        "condition": "like_new", "price_paise": price, "weight_grams": 500},
        media_key=stored.key, width=stored.width, height=stored.height)
    order_id = place(Sale(buyer=buyer, seller=seller, listing=listing))
    clock.freeze(delivered_at - timedelta(days=1))
    carrier().advance(order_id, "in_transit")
    clock.freeze(delivered_at)
    carrier().advance(order_id, "delivered")
    return Delivered(order_id, buyer, seller)


# --- through the HTTP APIs (test_member_api.py, test_staff_api.py) --------------------------

def photo_parts(count: int = 1) -> list[tuple]:
    """`count` real JPEGs as multipart file parts for the field 'photos'."""
    import io
    return [(io.BytesIO(jpeg_bytes(next(_photo_seeds))), f"photo{i}.jpg", "image/jpeg")
            for i in range(count)]


def case_form(reason: str = "not_as_described",
              description: str = "The saree has a tear along the pallu.", photos: int = 1,
              **extra) -> dict:
    """The multipart fields of POST /api/v1/orders/<id>/cases."""
    form = {"reason": reason, "description": description, **extra}
    if photos:
        form["photos"] = photo_parts(photos)
    return form


def post_form(client, path: str, headers: dict, form: dict):
    return client.post(path, data=form, headers=headers, content_type="multipart/form-data")


def sold_and_delivered(price: int | None = None, *, buyer_id: int | None = None,
                       delivered_at: datetime = DELIVERED,
                       authenticator: int | None = None) -> Delivered:
    """Like delivered_order, but the listing's photo is a real stored JPEG (so the sold
    item's photos can be served), the buyer may be an existing member, and a listing
    above the authentication threshold is first passed by `authenticator` (a senior
    authenticator's staff id)."""
    from authentication import claims as auth_claims
    from authentication import decisions as auth_decisions
    from authentication.models import Verdict, checklist_for
    from marketplace_core.listings.photos import store_upload
    from tests.marketplace.db_helpers import listing_through_services
    from tests.marketplace.test_orders import PRICE, Sale, make_member

    clock.freeze(delivered_at - timedelta(days=2))
    n = next(_keys)
    seller = make_member(f"caseseller{n}")
    buyer = buyer_id or make_member(f"casebuyer{n}")
    stored = store_upload(jpeg_bytes(next(_photo_seeds)), "image/jpeg")
    listing = listing_through_services(seller, {
        "title": "Kanjivaram silk saree", "brand": "Nalli", "category": "sarees",
        "size": "Free size", "condition": "like_new", "price_paise": price or PRICE,
        "weight_grams": 600}, media_key=stored.key, width=stored.width, height=stored.height)
    if authenticator is not None:
        with db.unit_of_work() as s:
            reviewer = s.get(StaffUser, authenticator)
            request = auth_claims.claim_next(s, reviewer, "review")
            assert request is not None and request.listing_id == listing, request
            auth_decisions.decide(s, reviewer, request, request.lease_token,
                                  auth_decisions.Decision(
                                      verdict=Verdict.AUTHENTIC, reason="all_points_consistent",
                                      checklist={p: "pass" for p in checklist_for(
                                          request.category)}))
    order_id = place(Sale(buyer=buyer, seller=seller, listing=listing))
    clock.freeze(delivered_at - timedelta(days=1))
    carrier().advance(order_id, "in_transit")
    clock.freeze(delivered_at)
    carrier().advance(order_id, "delivered")
    return Delivered(order_id, buyer, seller)


class StaffApi:
    """A staff member signed in to the staff API (a bearer token at the current time)."""

    BASE = "/api/v1/staff/disputes"

    def __init__(self, client, staff, role: str):
        from tests.helpers import STRONG_PASSWORD

        self.client = client
        self.role = role
        self.id, email, _ = staff(role)
        response = client.post("/api/v1/staff/auth/token",
                               json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 200, response.json
        self.headers = {"Authorization": f"Bearer {response.json['token']}"}

    def claim(self, queue: str | None = None):
        return self.client.post(f"{self.BASE}/claim", json={"queue": queue} if queue else {},
                                headers=self.headers)

    def claimed(self, queue: str | None = None) -> dict:
        response = self.claim(queue)
        assert response.status_code == 200, (response.status_code, response.data)
        return response.json

    def post(self, case_id: int, action: str, **body):
        return self.client.post(f"{self.BASE}/{case_id}/{action}", json=body,
                                headers=self.headers)

    def get(self, path: str, **query):
        return self.client.get(f"{self.BASE}{path}", query_string=query, headers=self.headers)

    def decide(self, claim: dict, outcome: str, reason: str, **extra):
        body = {"outcome": outcome, "reason": reason, "note": extra.pop("note", "Checked."),
                "idempotency_key": extra.pop("key", f"api-key-{next(_keys)}"),
                "lease_token": claim["lease_token"], **extra}
        return self.post(claim["case"]["id"], "decision", **body)


def assert_api_error(response, status: int, code: str) -> dict:
    """A JSON error with this status and code, and a message that says something."""
    assert response.status_code == status, (response.status_code, response.data)
    error = response.json["error"]
    assert error["code"] == code, error
    assert error["message"].strip(), error
    return error


def delivered_orders(count: int, *, delivered_at: datetime = DELIVERED) -> list[Delivered]:
    """`count` orders of one buyer from one seller, each delivered by the carrier at
    `delivered_at` (members are slow to make: their passwords are hashed)."""
    clock.freeze(delivered_at - timedelta(days=2))
    sale = new_sale()
    order_ids = [place(sale)]
    for _ in range(count - 1):
        listing = live_listing(sale.seller, title=f"Paithani saree {next(_keys)}")
        order_ids.append(place(Sale(buyer=sale.buyer, seller=sale.seller, listing=listing)))
    clock.freeze(delivered_at - timedelta(days=1))
    for order_id in order_ids:
        carrier().advance(order_id, "in_transit")
    clock.freeze(delivered_at)
    for order_id in order_ids:
        carrier().advance(order_id, "delivered")
    return [Delivered(order_id, sale.buyer, sale.seller) for order_id in order_ids]
