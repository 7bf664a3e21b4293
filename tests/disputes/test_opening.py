"""Opening a case: the window's edges, who may open one, covered and refused reasons, the
evidence it needs, and what a refusal leaves behind (nothing)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from disputes import opening
from disputes.evidence import Upload
from disputes.models import NOT_COVERED, CaseMessage, CasePhoto, DisputeCase
from foundation import clock, db, jobs
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace_core.media.errors import ImageRejected
from marketplace_core.members.models import Member
from marketplace_core.orders import services as orders
from marketplace_core.orders import tasks as order_tasks
from marketplace_core.orders.models import Order
from tests.builders.cases import DELIVERED, delivered_order, open_case
from tests.builders.members import make_member
from tests.builders.orders import (
    TOTAL,
    assert_books_sound,
    money,
    new_sale,
    order_row,
    place,
    run,
    status_of,
)
from tests.builders.photos import jpeg_bytes, photo
from tests.disputes.support import case_events, messages, photos, state_of

SECOND = timedelta(seconds=1)
WINDOW = timedelta(days=3)


def refused(error: type, order_id: int, member_id: int, **kwargs) -> str:
    """open_case as `member_id`, which must refuse with `error`; asserts that the service
    wrote nothing before refusing (checked in its own session) and returns the code."""
    kwargs.setdefault("reason", "not_as_described")
    kwargs.setdefault("description", "The zari border is torn.")
    kwargs.setdefault("photos", [photo()])
    with db.unit_of_work() as s:
        with pytest.raises(error) as caught:
            opening.open_case(s, s.get(Member, member_id), order_id, **kwargs)
        assert nothing_written(s)
    return caught.value.code


def nothing_written(s) -> bool:
    """No case, message, photo or hold anywhere (each test has at most one order)."""
    return all(s.scalar(select(func.count()).select_from(model).where(*where)) == 0
               for model, where in ((DisputeCase, ()), (CaseMessage, ()), (CasePhoto, ()),
                                    (Order, (Order.on_hold.is_(True),))))


def no_case_on(order_id: int) -> None:
    assert order_row(order_id).on_hold is False
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count(DisputeCase.id))
                        .where(DisputeCase.order_id == order_id)) == 0


# --- the window -------------------------------------------------------------------------

def test_a_report_one_second_before_the_window_closes_opens_a_case(app):
    order = delivered_order()
    clock.freeze(DELIVERED + WINDOW - SECOND)
    case_id = open_case(order, reason="undisclosed_damage",
                        description="  A stain on the dupatta, not in the photos.  ")
    with db.unit_of_work() as s:
        case = s.get(DisputeCase, case_id)
        assert (case.state, case.reason, case.description, case.buyer_id, case.seller_id) == \
            ("awaiting_seller", "undisclosed_damage",
             "A stain on the dupatta, not in the photos.", order.buyer_id, order.seller_id)
        assert case.amount_paise == TOTAL
        assert case.seller_response_due_at == clock.now() + timedelta(days=2)
        assert case.sla_due_at is None  # the agents' clock starts when the case reaches them
        snapshot = case.listing_snapshot["items"][0]
        assert (snapshot["title"], snapshot["brand"]) == ("Banarasi silk saree", "Nalli")
    held = order_row(order.order_id)
    assert (held.status, held.on_hold, held.hold_case_ref) == \
        ("delivered", True, f"case-{case_id}")
    assert [(m.kind, m.author) for m in messages(case_id)] == [("opening", "buyer")]
    assert [p.party for p in photos(case_id)] == ["buyer"]
    assert case_events(case_id) == [(None, "awaiting_seller", "opened")]
    assert money(order.order_id)["held_paise"] == TOTAL
    assert_books_sound()


def test_a_report_exactly_at_the_end_of_the_window_is_refused(app):
    order = delivered_order()
    clock.freeze(DELIVERED + WINDOW)
    assert refused(Conflict, order.order_id, order.buyer_id) == "window_closed"
    no_case_on(order.order_id)


def test_a_report_after_the_buyer_accepted_is_refused(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(hours=5))
    with db.unit_of_work() as s:
        orders.accept(s, s.get(Order, order.order_id), s.get(Member, order.buyer_id))
    assert refused(Conflict, order.order_id, order.buyer_id) == "order_accepted"
    assert status_of(order.order_id) == "completed"
    assert money(order.order_id)["released_paise"] == TOTAL


def test_a_report_before_delivery_is_refused(app):
    clock.freeze(DELIVERED)
    sale = new_sale()
    order_id = place(sale)
    assert refused(Conflict, order_id, sale.buyer) == "not_delivered"
    run(orders.mark_shipped, order_id)
    assert refused(Conflict, order_id, sale.buyer) == "not_delivered"
    no_case_on(order_id)


def test_a_cancelled_order_has_nothing_to_report(app):
    clock.freeze(DELIVERED)
    sale = new_sale()
    order_id = place(sale)
    with db.unit_of_work() as s:
        orders.cancel_by_buyer(s, s.get(Order, order_id), s.get(Member, sale.buyer),
                               "tapped by mistake")
    assert refused(Conflict, order_id, sale.buyer) == "order_closed"
    assert money(order_id)["refunded_paise"] == TOTAL


def test_an_open_case_stops_the_automatic_acceptance(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=2))
    open_case(order)
    clock.freeze(DELIVERED + WINDOW + timedelta(days=1))
    jobs.run_pending()                        # the order's acceptance timer fires late
    order_tasks.sweep_orders.enqueue_now()    # and the orders sweep looks again
    jobs.run_pending()
    held = order_row(order.order_id)
    assert (held.status, held.on_hold) == ("delivered", True)
    assert money(order.order_id)["held_paise"] == TOTAL
    assert money(order.order_id)["released_paise"] == 0
    assert_books_sound()


# --- reasons ----------------------------------------------------------------------------

def test_what_is_not_covered_is_refused_with_its_own_message(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    for reason, message in NOT_COVERED.items():
        with db.unit_of_work() as s:
            with pytest.raises(ValidationFailed) as caught:
                opening.open_case(s, s.get(Member, order.buyer_id), order.order_id,
                                  reason=reason, description="It does not suit me.",
                                  photos=[photo()])
        assert (caught.value.code, caught.value.message) == ("reason_not_covered", message)
    no_case_on(order.order_id)


def test_an_unknown_reason_is_refused(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    for reason in ("", "damaged", "NOT_AS_DESCRIBED", None, 3, ["x"]):
        assert refused(ValidationFailed, order.order_id, order.buyer_id, reason=reason) == \
            "bad_reason", reason


@pytest.mark.parametrize("reason", ["undisclosed_damage", "wrong_or_missing_item",
                                    "not_as_described", "not_authentic"])
def test_every_covered_reason_opens_a_case(app, reason):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    case_id = open_case(order, reason=reason)
    assert state_of(case_id) == "awaiting_seller"


# --- evidence ---------------------------------------------------------------------------

def test_a_description_is_required_and_bounded(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    for description in ("", "   ", None, 42, "x" * 2001):
        assert refused(ValidationFailed, order.order_id, order.buyer_id,
                       description=description) == "bad_text", description
    assert state_of(open_case(order, description="x" * 2000)) == "awaiting_seller"


def test_at_least_one_photo_is_required(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    assert refused(ValidationFailed, order.order_id, order.buyer_id, photos=[]) == \
        "photo_required"


def test_at_most_eight_photos(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    assert refused(ValidationFailed, order.order_id, order.buyer_id,
                   photos=[photo() for _ in range(9)]) == "too_many_photos"
    case_id = open_case(order, photos=[photo() for _ in range(8)])
    assert len(photos(case_id)) == 8


@pytest.mark.parametrize("data, code", [
    (jpeg_bytes(7)[:4000], "truncated_or_corrupt"),
    (b"GIF89a" + b"\x00" * 200, "unsupported_format"),
    (b"", "empty_file"),
])
def test_a_bad_image_refuses_the_whole_report_and_writes_nothing(app, data, code):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    # A good photo first: the bad one after it must still leave no trace.
    bad = [photo(), Upload(data, "image/jpeg", "broken.jpg")]
    assert refused(ImageRejected, order.order_id, order.buyer_id, photos=bad) == code
    no_case_on(order.order_id)
    # The buyer can try again with good photos.
    assert state_of(open_case(order)) == "awaiting_seller"


# --- who may report, and how often ---------------------------------------------------------

def test_the_seller_cannot_report_their_own_sale(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    assert refused(PermissionDenied, order.order_id, order.seller_id) == "not_buyer"


def test_a_stranger_or_an_unknown_order_gets_not_found(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    stranger = make_member("stranger")
    assert refused(NotFound, order.order_id, stranger) == "order_not_found"
    for order_id in (order.order_id + 1000, str(order.order_id), None):
        assert refused(NotFound, order_id, order.buyer_id) == "order_not_found"
    no_case_on(order.order_id)


def test_one_case_per_order(app):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    first = open_case(order)
    with db.unit_of_work() as s:
        with pytest.raises(Conflict) as caught:
            opening.open_case(s, s.get(Member, order.buyer_id), order.order_id,
                              reason="undisclosed_damage", description="And a hole.",
                              photos=[photo()])
    assert caught.value.code == "case_exists"
    assert [c for c in _case_ids_of(order.order_id)] == [first]
    assert order_row(order.order_id).hold_case_ref == f"case-{first}"


def _case_ids_of(order_id: int) -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(DisputeCase.id).where(DisputeCase.order_id == order_id)))
