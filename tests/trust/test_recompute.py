"""Counting from the real tables, recomputing with history written only on change, and the
full recompute (`flask trust recompute`) that is safe to run again."""
from __future__ import annotations

import json
from datetime import timedelta

from foundation import clock, db, jobs
from marketplace_core.members.models import Member
from marketplace_core.orders import ratings, services
from marketplace_core.orders.models import Order
from marketplace_core.shipping import services as shipping
from marketplace_core.shipping.carrier import SimulatedCarrier, in_process_transport
from tests.builders.members import make_member
from tests.builders.orders import T0, Sale, live_listing, place
from tests.trust.support import item_history, run_trust_jobs, seller_history, seller_record
from trust.signals import counting, recompute
from trust.weights import TrustWeights

DAY = timedelta(days=1)


def as_buyer(fn, order_id: int, buyer: int, **kwargs):
    with db.unit_of_work() as s:
        return fn(s, s.get(Order, order_id), s.get(Member, buyer), **kwargs)


def test_counts_come_from_orders_cancellations_late_labels_and_ratings(app):
    clock.freeze(T0)
    seller, buyer = make_member("sunita"), make_member("arjun")
    completed = place(Sale(buyer, seller, live_listing(seller)))
    unshipped = place(Sale(buyer, seller, live_listing(seller, title="Phulkari dupatta")))
    accident = place(Sale(buyer, seller, live_listing(seller, title="Kolhapuri chappals")))
    shipped_late = place(Sale(buyer, seller, live_listing(seller, title="Bandhani saree")))
    as_buyer(services.cancel_by_buyer, accident, buyer, reason="bought by mistake")
    carrier = SimulatedCarrier(in_process_transport)   # scans, so its label is not late
    carrier.advance(completed, "in_transit")
    clock.freeze(T0 + DAY)
    carrier.advance(completed, "delivered")
    as_buyer(services.accept, completed, buyer)
    as_buyer(ratings.rate_order, completed, buyer, stars=4)
    clock.freeze(T0 + 4 * DAY)
    with db.unit_of_work() as s:
        shipping.flag_late_shipments(s)           # both unshipped labels are late
    carrier.advance(shipped_late, "in_transit")
    clock.freeze(T0 + 21 * DAY)
    jobs.run_pending()                            # the day-21 timer cancels it

    with db.unit_of_work() as s:
        counts = counting.seller_counts(s, [seller, buyer, 999], TrustWeights())
    assert set(counts) == {seller, buyer}         # an unknown id is left out
    got = counts[seller]
    assert (got.orders, got.completed_orders, got.cancellations, got.late_shipments) == \
        (4, 1, 1, 1)      # the accidental cancel is not the seller's; the day-21 one is
                          # a cancellation (not also a late shipment)
    assert (got.ratings, got.rating_sum, got.account_age_days) == (1, 4, 21)
    record = seller_record(seller)                # the events kept the stored record fresh
    assert record.counts["cancellations"] == 1 and record.counts["late_shipments"] == 1
    assert record.parts["order_history"] < 0 and record.parts["ratings"] < 0
    assert seller_history(seller)[-1][2] == "order cancelled"   # the latest mark's cause
    assert unshipped and accident


def test_recomputing_unchanged_data_appends_no_history(app):
    seller = make_member("rohan")
    listing = live_listing(seller)
    run_trust_jobs()
    before = (seller_history(seller), item_history(listing))
    with db.unit_of_work() as s:
        recompute.recompute_seller(s, seller, "again")
        recompute.recompute_listing(s, listing, "again")
    assert (seller_history(seller), item_history(listing)) == before
    assert len(before[0]) == 1 and len(before[1]) == 1


def test_the_full_recompute_scores_everyone_with_progress_and_is_idempotent(app):
    sellers = [make_member(f"closet{n}") for n in range(3)]
    listings = [live_listing(seller) for seller in sellers for _ in range(2)]
    app.extensions["redis"].flushdb()             # as if no worker had run
    result = app.test_cli_runner().invoke(args=["trust", "recompute", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary == {"recomputed": 9, "tiers": {"top": 0, "trusted": 0, "new": 3,
                                                  "watch": 0, "risky": 0}}
    again = app.test_cli_runner().invoke(args=["trust", "recompute"])
    assert again.exit_code == 0 and json.loads(again.output.strip().splitlines()[-1]) == summary
    assert all(len(item_history(listing)) == 1 for listing in listings)
    assert all(seller_history(seller)[0][2] == "flask trust recompute" for seller in sellers)
