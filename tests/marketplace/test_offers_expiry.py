"""Offer expiry: the 24-hour boundary, the timer job on a real RQ worker, the sweep for
lost timers, and acceptance racing the expiry."""
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from foundation import clock, db, jobs
from foundation.errors import Conflict
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from marketplace_core.offers import machine, services, tasks
from marketplace_core.offers.models import Offer, OfferEvent
from marketplace_core.orders.models import Order
from tests.builders.members import register
from tests.builders.offers import act, live_listing, make_offer
from tests.builders.rows import count, row

DAY = timedelta(hours=24)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def offer(client, t0):
    seller, buyer = register(client), register(client)
    listing_id = live_listing(seller, 200_000)
    response = make_offer(client, buyer, listing_id, 120_000)
    assert response.status_code == 201
    return {"id": response.json["offer"]["id"], "seller": seller, "buyer": buyer,
            "listing_id": listing_id}


def fire_timer(offer_id: int, state: str, deadline) -> bool:
    with db.unit_of_work():
        return tasks.expire_offer(offer_id, state, deadline.isoformat())


def test_a_minute_before_24_hours_the_offer_stands_and_at_24_hours_it_expires(
        client, offer, t0):
    deadline = t0 + DAY
    clock.freeze(deadline - MINUTE)
    assert fire_timer(offer["id"], "pending_seller", deadline) is False  # early: no-op
    with db.unit_of_work():
        assert tasks.sweep_expired_offers() == 0
    assert row(Offer, offer["id"]).state == "pending_seller"

    clock.freeze(deadline)
    assert jobs.run_pending() >= 1  # the armed timer, moved by RQ's scheduler
    expired = row(Offer, offer["id"])
    assert (expired.state, expired.closed_at) == ("expired", deadline)
    assert count(OfferEvent, OfferEvent.offer_id == offer["id"],
                 OfferEvent.to_state == "expired", OfferEvent.actor == "system") == 1
    response = act(client, offer["seller"], offer["id"], "accept")
    assert (response.status_code, response.json["error"]["code"]) == (409, "offer_expired")
    assert count(Order) == 0


def test_acceptance_a_minute_before_the_deadline_succeeds(client, offer, t0):
    clock.freeze(t0 + DAY - MINUTE)
    response = act(client, offer["seller"], offer["id"], "accept")
    assert response.status_code == 200, response.json
    clock.freeze(t0 + DAY)
    jobs.run_pending()  # the timer fires on an accepted offer: nothing happens
    assert row(Offer, offer["id"]).state == "accepted"
    assert count(OfferEvent, OfferEvent.to_state == "expired") == 0


def test_at_the_deadline_acceptance_is_refused_even_before_the_timer_runs(client, offer,
                                                                        t0):
    clock.freeze(t0 + DAY)
    response = act(client, offer["seller"], offer["id"], "accept")
    assert (response.status_code, response.json["error"]["code"]) == (409, "offer_expired")
    for member, action, body in ((offer["seller"], "counter", {"amount_paise": 150_000}),
                                 (offer["seller"], "decline", None),
                                 (offer["buyer"], "withdraw", None)):
        late = act(client, member, offer["id"], action, body)
        assert (late.status_code, late.json["error"]["code"]) == (409, "offer_expired")
    assert row(Offer, offer["id"]).state == "pending_seller"  # the timer closes it
    assert count(Order) == 0 and count(LedgerTransaction) == 0


def test_a_counter_restarts_the_clock_and_the_old_timer_does_nothing(client, offer, t0):
    clock.freeze(t0 + timedelta(hours=23))
    act(client, offer["seller"], offer["id"], "counter", {"amount_paise": 180_000})
    clock.freeze(t0 + DAY)
    jobs.run_pending()  # the first timer (pending_seller, t0 + 24 h) is due and fires
    countered = row(Offer, offer["id"])
    assert (countered.state, countered.expires_at) == ("pending_buyer",
                                                       t0 + timedelta(hours=47))
    clock.freeze(t0 + timedelta(hours=47) - MINUTE)
    assert fire_timer(offer["id"], "pending_buyer", t0 + timedelta(hours=47)) is False
    clock.freeze(t0 + timedelta(hours=47))
    assert fire_timer(offer["id"], "pending_seller", t0 + DAY) is False  # stale timer
    assert fire_timer(offer["id"], "pending_buyer", t0 + timedelta(hours=47)) is True
    assert fire_timer(offer["id"], "pending_buyer", t0 + timedelta(hours=47)) is False
    assert row(Offer, offer["id"]).state == "expired"
    assert count(OfferEvent, OfferEvent.to_state == "expired") == 1


def test_the_sweep_expires_offers_whose_timer_was_lost(app, client, offer, t0):
    app.extensions["redis"].flushdb()  # every queued and scheduled job is gone
    clock.freeze(t0 + DAY)
    tasks.sweep_expired_offers.enqueue_now()
    assert jobs.run_pending() == 1
    assert row(Offer, offer["id"]).state == "expired"
    assert "marketplace_core.offers.tasks.sweep_expired_offers" in jobs.periodic_tasks()


# --- acceptance racing the expiry ------------------------------------------------------

def test_the_expiry_wins_and_the_slower_acceptance_is_refused_with_nothing_charged(
        offer, database_url, t0):
    deadline = t0 + DAY
    # The seller's request reads the offer just before the deadline...
    clock.freeze(deadline - timedelta(seconds=1))
    request = Session(bind=db.engine_for(database_url))
    pending = services.get_for_party(request, offer["id"],
                                     request.get(Member, offer["seller"]["id"]))
    assert pending.state == "pending_seller"
    # ...the timer fires at the deadline in a worker and commits first...
    clock.freeze(deadline)
    jobs.run_pending()
    assert row(Offer, offer["id"]).state == "expired"
    # ...and the acceptance, still believing it is in time, reaches the database.
    clock.freeze(deadline - timedelta(seconds=1))
    with pytest.raises(Conflict) as refused:
        services.accept(request, request.get(Member, offer["seller"]["id"]), pending)
    request.rollback()
    request.close()
    assert refused.value.code == "offer_expired"
    assert count(Order) == 0 and count(LedgerTransaction) == 0
    assert row(Listing, offer["listing_id"]).status == "live"
    assert count(OfferEvent, OfferEvent.to_state == "accepted") == 0


def test_the_acceptance_wins_and_the_slower_timer_does_nothing(client, offer, database_url,
                                                              t0):
    deadline = t0 + DAY
    # The worker picks the timer up and reads the offer while it is still pending...
    clock.freeze(deadline - timedelta(seconds=1))
    worker = Session(bind=db.engine_for(database_url))
    assert worker.get(Offer, offer["id"]).state == "pending_seller"
    # ...the seller's acceptance commits first...
    response = act(client, offer["seller"], offer["id"], "accept")
    assert response.status_code == 200
    # ...and the timer's guarded update, at the deadline, finds nothing to expire.
    clock.freeze(deadline)
    assert machine.expire(worker, offer["id"], "pending_seller", deadline) is False
    worker.commit()
    worker.close()
    accepted = row(Offer, offer["id"])
    assert (accepted.state, accepted.order_id) == ("accepted", response.json["order"]["id"])
    assert count(OfferEvent, OfferEvent.to_state == "expired") == 0
    assert count(Order) == 1
