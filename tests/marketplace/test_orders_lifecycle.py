"""After checkout: shipping, delivery, acceptance, cancellation windows, timers and sweeps,
case holds and ratings — every transition and refusal, with the books checked."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from foundation import clock, db, events, jobs
from foundation.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.members.models import Member
from marketplace_core.orders import payments, services, tasks
from marketplace_core.orders.models import Order
from tests.marketplace.test_orders import (
    COMMISSION,
    PRICE,
    SHIPPING,
    T0,
    TOTAL,
    assert_books_sound,
    buy,
    event_kinds,
    fresh_provider,
    headers_for,
    listing_status,
    make_member,
    money,
    new_sale,
    order_row,
    place,
    record_order_events,
    run,
    ship_and_deliver,
    status_of,
)

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@pytest.fixture
def provider(monkeypatch):
    return fresh_provider(monkeypatch)


@pytest.fixture
def emitted(monkeypatch):
    return record_order_events(monkeypatch)


def refund_posting_id(order_id: int) -> int:
    """The ledger's refund posting of an order (the provider knows the refund by it)."""
    with db.unit_of_work() as s:
        return s.scalars(select(LedgerTransaction.id).where(
            LedgerTransaction.order_id == order_id,
            LedgerTransaction.kind == "refund")).one()


def as_member(fn, order_id: int, member_id: int, *args, **kwargs):
    with db.unit_of_work() as s:
        result = fn(s, s.get(Order, order_id), s.get(Member, member_id), *args, **kwargs)
        return getattr(result, "status", result)


def post(client, order_id: int, action: str, member_id: int, body: dict | None = None):
    return client.post(f"/api/v1/orders/{order_id}/{action}", json=body or {},
                       headers=headers_for(member_id))


def releases(order_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count(LedgerTransaction.id)).where(
            LedgerTransaction.order_id == order_id, LedgerTransaction.kind == "release"))


def sweep_at(moment) -> None:
    """The beat fires the order sweep at `moment`; the worker runs what it enqueues."""
    clock.freeze(moment)
    tasks.sweep_orders.enqueue_now()
    jobs.run_pending()


# --- the happy path ---------------------------------------------------------------------

def test_placed_shipped_delivered_accepted_releases_the_price_less_commission(client, emitted):
    clock.freeze(T0)
    sale = new_sale()
    order_id = buy(client, sale).get_json()["id"]
    assert_books_sound()
    ship_and_deliver(order_id, delivered_at=T0 + 3 * DAY)
    assert status_of(order_id) == "delivered"
    assert order_row(order_id).delivered_at == T0 + 3 * DAY
    assert money(order_id)["held_paise"] == TOTAL
    assert_books_sound()
    response = post(client, order_id, "accept", sale.buyer)
    assert response.status_code == 200, response.get_json()
    order = response.get_json()
    assert order["status"] == "completed"
    assert (order["captured_paise"], order["held_paise"], order["released_paise"],
            order["refunded_paise"]) == (TOTAL, 0, TOTAL, 0)
    with db.unit_of_work() as s:
        assert ledger.seller_balance(s, sale.seller) == PRICE - COMMISSION
    seller_view = client.get(f"/api/v1/orders/{order_id}",
                             headers=headers_for(sale.seller)).get_json()
    assert seller_view["commission_paise"] == COMMISSION
    assert event_kinds(order_id) == ["placed", "shipped", "delivered", "completed"]
    assert [name for name, _ in emitted] == [events.OrderPlaced, events.OrderDelivered,
                                             events.OrderCompleted]
    assert_books_sound()


def test_a_heavier_label_comes_out_of_the_sellers_share(app):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    clock.freeze(T0 + DAY)
    run(services.mark_shipped, order_id, T0 + DAY, label_surcharge_paise=5_000)
    clock.freeze(T0 + 2 * DAY)
    run(services.mark_delivered, order_id, clock.now())
    as_member(services.accept, order_id, sale.buyer)
    with db.unit_of_work() as s:
        assert ledger.seller_balance(s, sale.seller) == PRICE - COMMISSION - 5_000
    assert money(order_id)["released_paise"] == TOTAL
    assert_books_sound()


# --- illegal transitions ------------------------------------------------------------------

def test_each_step_only_follows_the_one_before(client):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    with pytest.raises(Conflict) as refused:
        run(services.mark_delivered, order_id)
    assert refused.value.code == "illegal_transition"
    response = post(client, order_id, "accept", sale.buyer)
    assert (response.status_code, response.get_json()["error"]["code"]) == \
        (409, "illegal_transition")
    clock.freeze(T0 + DAY)
    run(services.mark_shipped, order_id)
    with pytest.raises(Conflict):
        run(services.mark_shipped, order_id)
    clock.freeze(T0 + 8 * DAY)
    response = post(client, order_id, "cancel", sale.buyer, {"reason": "too slow"})
    assert (response.status_code, response.get_json()["error"]["code"]) == \
        (409, "illegal_transition")
    run(services.mark_delivered, order_id)
    assert post(client, order_id, "accept", sale.seller).status_code == 403
    assert post(client, order_id, "accept", sale.buyer).status_code == 200
    again = post(client, order_id, "accept", sale.buyer)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "illegal_transition")
    assert releases(order_id) == 1
    assert event_kinds(order_id) == ["placed", "shipped", "delivered", "completed"]
    assert_books_sound()


def test_shipping_times_must_fall_between_the_last_step_and_now(app):
    clock.freeze(T0)
    order_id = place(new_sale())
    clock.freeze(T0 + timedelta(hours=1))
    for at in (T0 - MINUTE, clock.now() + MINUTE):
        with pytest.raises(ValidationFailed):
            run(services.mark_shipped, order_id, at)
    assert status_of(order_id) == "placed"
    run(services.mark_shipped, order_id, T0 + MINUTE)
    with pytest.raises(ValidationFailed):
        run(services.mark_delivered, order_id, T0)             # before it was shipped
    assert status_of(order_id) == "shipped"


def test_a_naive_time_is_refused(app):
    order_id = place(new_sale())
    with pytest.raises(ValidationFailed):
        run(services.mark_shipped, order_id, clock.now().replace(tzinfo=None))


def test_a_label_surcharge_larger_than_the_sellers_share_is_refused(app):
    order_id = place(new_sale())
    with pytest.raises(ValidationFailed):
        run(services.mark_shipped, order_id, label_surcharge_paise=PRICE - COMMISSION + 1)
    assert status_of(order_id) == "placed"


# --- the buyer's cancellations --------------------------------------------------------------

def test_an_accidental_buy_now_is_cancelled_at_2h59m_with_a_full_refund(client, emitted,
                                                                       provider):
    clock.freeze(T0)
    sale = new_sale()
    order_id = buy(client, sale).get_json()["id"]
    clock.freeze(T0 + timedelta(hours=2, minutes=59))
    response = post(client, order_id, "cancel", sale.buyer, {"reason": "tapped by mistake"})
    assert response.status_code == 200, response.get_json()
    order = response.get_json()
    assert (order["status"], order["cancelled_by"], order["cancel_reason"]) == \
        ("cancelled", "buyer", "tapped by mistake")
    assert (order["captured_paise"], order["held_paise"], order["released_paise"],
            order["refunded_paise"]) == (TOTAL, 0, 0, TOTAL)
    assert listing_status(sale.listing) == "live"
    assert (events.OrderCancelled, {"order_id": order_id, "reason": "tapped by mistake"}) \
        in emitted
    assert_books_sound()
    # After the commit a job tells the provider to send the money back.
    jobs.run_pending()
    assert [(r["reference"], r["provider_ref"], r["amount_paise"])
            for r in provider.received_refunds()] == [
        (payments.refund_reference(order_id, refund_posting_id(order_id)),
         order_row(order_id).provider_ref, TOTAL)]
    # The item can be bought again.
    other = make_member("secondchance")
    assert buy(client, sale, headers=headers_for(other)).status_code == 201


def test_an_accidental_cancel_at_3h01m_is_too_late(client):
    clock.freeze(T0)
    sale = new_sale()
    order_id = buy(client, sale).get_json()["id"]
    clock.freeze(T0 + timedelta(hours=3, minutes=1))
    response = post(client, order_id, "cancel", sale.buyer, {"reason": "changed my mind"})
    assert (response.status_code, response.get_json()["error"]["code"]) == \
        (409, "cancel_not_allowed_yet")
    assert status_of(order_id) == "placed"
    assert money(order_id)["held_paise"] == TOTAL


def test_an_offer_order_cannot_be_cancelled_as_an_accident(app):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale, source="offer", offer_id=5, prices=[120_000])
    clock.freeze(T0 + MINUTE)
    with pytest.raises(Conflict) as refused:
        as_member(services.cancel_by_buyer, order_id, sale.buyer, "oops")
    assert refused.value.code == "cancel_not_allowed_yet"


def test_an_unshipped_order_may_be_cancelled_from_day_7_not_a_minute_before(client):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale, source="offer", offer_id=5, prices=[120_000])
    clock.freeze(T0 + 7 * DAY - MINUTE)
    early = post(client, order_id, "cancel", sale.buyer, {"reason": "not shipped"})
    assert (early.status_code, early.get_json()["error"]["code"]) == \
        (409, "cancel_not_allowed_yet")
    clock.freeze(T0 + 7 * DAY)
    on_time = post(client, order_id, "cancel", sale.buyer, {"reason": "not shipped"})
    assert on_time.status_code == 200
    assert on_time.get_json()["refunded_paise"] == 120_000 + SHIPPING
    assert listing_status(sale.listing) == "live"
    assert_books_sound()


def test_only_the_buyer_cancels_and_only_with_a_reason(client):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    assert post(client, order_id, "cancel", sale.seller, {"reason": "no"}).status_code == 403
    for body in ({}, {"reason": ""}, {"reason": "x" * 201}, {"reason": 3}):
        assert post(client, order_id, "cancel", sale.buyer, body).status_code == 422
    assert status_of(order_id) == "placed"


def test_a_cancelled_order_cannot_be_cancelled_or_shipped_again(client):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    assert post(client, order_id, "cancel", sale.buyer, {"reason": "oops"}).status_code == 200
    again = post(client, order_id, "cancel", sale.buyer, {"reason": "oops"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "illegal_transition")
    with pytest.raises(Conflict):
        run(services.mark_shipped, order_id)
    assert money(order_id)["refunded_paise"] == TOTAL
    assert_books_sound()


# --- automatic cancellation on day 21 -------------------------------------------------------

def test_the_timer_cancels_an_unshipped_order_on_day_21(app, emitted):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    clock.freeze(T0 + 21 * DAY)
    jobs.run_pending()
    order = order_row(order_id)
    assert (order.status, order.cancelled_by) == ("cancelled", "system")
    assert money(order_id)["refunded_paise"] == TOTAL
    assert listing_status(sale.listing) == "live"
    assert [n for n, _ in emitted].count(events.OrderCancelled) == 1
    assert_books_sound()


def test_an_early_timer_does_nothing_and_the_sweep_cancels_on_day_21(app):
    clock.freeze(T0)
    order_id = place(new_sale())
    clock.freeze(T0 + 21 * DAY - MINUTE)
    jobs.run_pending()                     # the timer fires early: it re-checks and waits
    sweep_at(T0 + 21 * DAY - MINUTE)
    assert status_of(order_id) == "placed"
    sweep_at(T0 + 21 * DAY)
    assert status_of(order_id) == "cancelled"
    sweep_at(T0 + 22 * DAY)                # a repeat finds nothing more to do
    assert money(order_id)["refunded_paise"] == TOTAL
    assert_books_sound()


def test_a_shipped_order_is_not_cancelled_on_day_21(app):
    clock.freeze(T0)
    order_id = place(new_sale())
    clock.freeze(T0 + 20 * DAY)
    run(services.mark_shipped, order_id)
    sweep_at(T0 + 21 * DAY)
    assert status_of(order_id) == "shipped"
    with db.unit_of_work() as s:
        assert services.auto_cancel_if_due(s, order_id) is False


# --- automatic acceptance 3 days after delivery ---------------------------------------------

def test_the_timer_accepts_exactly_3_days_after_delivery(app, emitted):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    delivered = T0 + 4 * DAY
    ship_and_deliver(order_id, delivered_at=delivered)
    clock.freeze(delivered + 3 * DAY)
    jobs.run_pending()
    order = order_row(order_id)
    assert (order.status, order.completed_by) == ("completed", "system")
    assert money(order_id)["released_paise"] == TOTAL
    assert [n for n, _ in emitted].count(events.OrderCompleted) == 1
    assert_books_sound()


def test_no_acceptance_a_second_before_3_days_then_the_sweep_accepts(app):
    clock.freeze(T0)
    order_id = place(new_sale())
    delivered = T0 + 4 * DAY
    ship_and_deliver(order_id, delivered_at=delivered)
    clock.freeze(delivered + 3 * DAY - timedelta(seconds=1))
    jobs.run_pending()
    sweep_at(delivered + 3 * DAY - timedelta(seconds=1))
    assert status_of(order_id) == "delivered"
    assert money(order_id)["held_paise"] == TOTAL
    sweep_at(delivered + 3 * DAY)
    assert status_of(order_id) == "completed"
    assert_books_sound()


def test_duplicate_acceptance_jobs_release_the_funds_once(app):
    clock.freeze(T0)
    order_id = place(new_sale())
    ship_and_deliver(order_id, delivered_at=T0 + DAY)
    clock.freeze(T0 + 4 * DAY)
    for _ in range(3):
        tasks.auto_accept_order.enqueue_now(order_id)
    tasks.sweep_orders.enqueue_now()
    jobs.run_pending()
    assert status_of(order_id) == "completed"
    assert releases(order_id) == 1
    assert event_kinds(order_id).count("completed") == 1
    assert_books_sound()


# --- case holds (for the disputes package) ----------------------------------------------

def test_a_case_hold_stops_automatic_acceptance_and_the_buyers_accept(client):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    delivered = T0 + 2 * DAY
    ship_and_deliver(order_id, delivered_at=delivered)
    clock.freeze(delivered + DAY)
    assert run(services.hold_for_case, order_id, "NAD-1") == "delivered"
    clock.freeze(delivered + 5 * DAY)
    jobs.run_pending()
    sweep_at(delivered + 5 * DAY)
    assert status_of(order_id) == "delivered"
    assert order_row(order_id).on_hold
    refused = post(client, order_id, "accept", sale.buyer)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "on_hold")
    assert money(order_id)["held_paise"] == TOTAL
    # The case is refused after the window: the funds go to the seller at once.
    assert run(services.release_hold, order_id, "NAD-1") == "completed"
    assert order_row(order_id).completed_by == "case"
    assert money(order_id)["released_paise"] == TOTAL
    assert event_kinds(order_id)[-3:] == ["hold", "hold_released", "completed"]
    assert_books_sound()


def test_a_hold_lifted_inside_the_window_lets_the_timer_accept_later(app):
    clock.freeze(T0)
    order_id = place(new_sale())
    delivered = T0 + 2 * DAY
    ship_and_deliver(order_id, delivered_at=delivered)
    run(services.hold_for_case, order_id, "NAD-2")
    clock.freeze(delivered + DAY)
    assert run(services.release_hold, order_id, "NAD-2") == "delivered"
    assert run(services.release_hold, order_id, "NAD-2") == "delivered"  # already lifted
    sweep_at(delivered + 3 * DAY)
    assert status_of(order_id) == "completed"


def test_holds_need_held_funds_and_one_case_at_a_time(app):
    clock.freeze(T0)
    order_id = place(new_sale())
    with pytest.raises(Conflict) as refused:
        run(services.hold_for_case, order_id, "C-1")       # not shipped yet
    assert refused.value.code == "illegal_transition"
    run(services.mark_shipped, order_id)
    run(services.hold_for_case, order_id, "C-1")
    run(services.hold_for_case, order_id, "C-1")             # the same case again: no-op
    with pytest.raises(Conflict) as other:
        run(services.hold_for_case, order_id, "C-2")
    assert other.value.code == "already_on_hold"
    with pytest.raises(Conflict):
        run(services.release_hold, order_id, "C-2")
    with pytest.raises(ValidationFailed):
        run(services.hold_for_case, order_id, "")
    assert event_kinds(order_id).count("hold") == 1


def test_a_case_refund_of_everything_makes_the_order_refunded(app):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    ship_and_deliver(order_id, delivered_at=T0 + DAY)
    with pytest.raises(Conflict):
        run(services.refund_for_case, order_id, "NAD-3", TOTAL)  # no hold yet
    run(services.hold_for_case, order_id, "NAD-3")
    with pytest.raises(ValidationFailed):
        run(services.refund_for_case, order_id, "NAD-3", TOTAL + 1)
    assert run(services.refund_for_case, order_id, "NAD-3", TOTAL) == "refunded"
    assert money(order_id) == {"captured_paise": TOTAL, "held_paise": 0, "released_paise": 0,
                               "refunded_paise": TOTAL}
    assert listing_status(sale.listing) == "sold"  # the item goes back to the seller
    assert_books_sound()


def test_a_partial_case_refund_splits_the_held_funds(app):
    clock.freeze(T0)
    sale = new_sale()
    order_id = place(sale)
    ship_and_deliver(order_id, delivered_at=T0 + DAY)
    run(services.hold_for_case, order_id, "NAD-4")
    assert run(services.refund_for_case, order_id, "NAD-4", 50_000) == "completed"
    m = money(order_id)
    assert (m["refunded_paise"], m["released_paise"], m["held_paise"]) == \
        (50_000, TOTAL - 50_000, 0)
    kept_by_seller = TOTAL - 50_000 - SHIPPING
    with db.unit_of_work() as s:
        commission = ledger.commission_for(kept_by_seller)
        assert ledger.seller_balance(s, sale.seller) == kept_by_seller - commission
    assert_books_sound()


# --- ratings --------------------------------------------------------------------------------

def completed_order(sale) -> tuple[int, object]:
    clock.freeze(T0)
    order_id = place(sale)
    ship_and_deliver(order_id, delivered_at=T0 + DAY)
    as_member(services.accept, order_id, sale.buyer)
    return order_id, order_row(order_id).completed_at


def rate(client, order_id: int, member_id: int, body: dict):
    return client.post(f"/api/v1/orders/{order_id}/rating", json=body,
                       headers=headers_for(member_id))


def test_a_buyer_rates_on_day_30_and_it_shows_in_the_closet(client):
    sale = new_sale()
    order_id, completed = completed_order(sale)
    clock.freeze(completed + 30 * DAY)
    response = rate(client, order_id, sale.buyer, {"stars": 5, "text": "Lovely saree!"})
    assert response.status_code == 201, response.get_json()
    again = rate(client, order_id, sale.buyer, {"stars": 4})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_rated")
    with db.unit_of_work() as s:
        seller_name = s.get(Member, sale.seller).username
        buyer_name = s.get(Member, sale.buyer).username
    closet = client.get(f"/api/v1/closets/{seller_name}/ratings").get_json()
    assert closet["summary"] == {"count": 1, "average_stars": 5.0}
    assert [(r["stars"], r["text"], r["buyer"]["username"]) for r in closet["items"]] == \
        [(5, "Lovely saree!", buyer_name)]
    order = client.get(f"/api/v1/orders/{order_id}",
                       headers=headers_for(sale.buyer)).get_json()
    assert order["rating"]["stars"] == 5


def test_rating_on_day_31_is_too_late(client):
    sale = new_sale()
    order_id, completed = completed_order(sale)
    clock.freeze(completed + 31 * DAY)
    response = rate(client, order_id, sale.buyer, {"stars": 3})
    assert (response.status_code, response.get_json()["error"]["code"]) == \
        (409, "rating_window_closed")


def test_only_the_buyer_rates_a_completed_order_with_1_to_5_stars(client):
    sale = new_sale()
    clock.freeze(T0)
    open_order = place(sale)
    response = rate(client, open_order, sale.buyer, {"stars": 4})
    assert (response.status_code, response.get_json()["error"]["code"]) == \
        (409, "not_completed")
    other = new_sale()
    order_id, _ = completed_order(other)
    assert rate(client, order_id, other.seller, {"stars": 5}).status_code == 403
    assert rate(client, order_id, make_member("outsider"), {"stars": 5}).status_code == 404
    for body in ({}, {"stars": 0}, {"stars": 6}, {"stars": "5"}, {"stars": 4.5},
                 {"stars": 4, "text": "x" * 501}):
        assert rate(client, order_id, other.buyer, body).status_code == 422
    assert client.get("/api/v1/closets/nobody_here/ratings").status_code == 404


def test_the_rating_service_refuses_what_the_api_refuses(app):
    from marketplace_core.orders import ratings

    sale = new_sale()
    order_id, _ = completed_order(sale)
    with pytest.raises(PermissionDenied):
        as_member(lambda s, o, m: ratings.rate_order(s, o, m, stars=5), order_id, sale.seller)
    with pytest.raises(ValidationFailed):
        as_member(lambda s, o, m: ratings.rate_order(s, o, m, stars=True), order_id,
                  sale.buyer)
