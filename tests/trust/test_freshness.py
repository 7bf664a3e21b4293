"""Events -> marks -> jobs -> stored trust: what a verdict, a flag or a lost case does to
the records once the queued jobs run (for real, on the embedded Redis)."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from foundation import clock, db
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import ListingPhoto
from tests.authentication.support import Reviewer
from tests.builders.cases import case_under_review, pending_listing
from tests.builders.listings import listing_through_services
from tests.builders.members import make_member, register
from tests.disputes.support import decide
from tests.trust.support import (
    item_history,
    item_record,
    marks,
    run_trust_jobs,
    seller_history,
    seller_record,
)
from trust.signals import tasks
from vision import duplicates


def test_a_counterfeit_verdict_excludes_the_item_and_makes_the_seller_risky(client, staff):
    owner = register(client)
    listing = pending_listing(client, owner)
    run_trust_jobs()
    assert seller_record(owner["id"]).tier == "new"
    reviewer = Reviewer(client, staff, "authenticator")
    senior = Reviewer(client, staff, "senior_authenticator")
    reviewer.decide(reviewer.claimed(), "counterfeit", reason="logo_mismatch")
    assert senior.decide(senior.claimed("second_review"), "counterfeit",
                         reason="logo_mismatch").status_code == 200
    assert ("seller", owner["id"]) in marks()

    run_trust_jobs()

    item = item_record(listing["id"])
    assert (item.excluded, item.exclusion_reason) == (True, "confirmed_counterfeit")
    record = seller_record(owner["id"])
    assert record.tier == "risky"
    assert record.counts["counterfeit_verdicts"] == 1 and record.counts["strikes"] == 1
    assert record.parts["counterfeit_verdicts"] < 0 and record.parts["strikes"] < 0
    assert seller_history(owner["id"])[-1][1:] == ("risky", "authentication verdict")
    assert marks() == []


def _photo_of(listing_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(ListingPhoto.id).where(ListingPhoto.listing_id == listing_id))


def test_a_duplicate_flag_flags_the_copy_and_dismissing_it_clears_the_flag(app, staff):
    original_seller, copier = make_member("original"), make_member("copier")
    original = listing_through_services(original_seller, _saree())
    copy = listing_through_services(copier, _saree())
    run_trust_jobs()
    assert item_record(copy).flagged is False
    match = SimpleNamespace(photo_id=_photo_of(original), score=0.93, alignment="identity",
                            fired=["pdq"], signals={"pdq": 4})
    copy_photo = _photo_of(copy)
    with db.unit_of_work() as s:
        flag_id = duplicates.record_match(s, s.get(ListingPhoto, copy_photo), match).id

    run_trust_jobs()

    item = item_record(copy)
    assert (item.flagged, item.duplicate_flags) == (True, 1)
    assert seller_record(copier).counts["open_duplicate_flags"] == 1
    assert item_record(original).flagged is False   # the earlier photo is not the suspect
    moderator = staff("admin")[0]
    with db.unit_of_work() as s:
        duplicates.review_flag(s, s.get(StaffUser, moderator), flag_id, "dismiss")
    run_trust_jobs()
    assert item_record(copy).flagged is False
    assert seller_record(copier).counts["open_duplicate_flags"] == 0
    assert [flagged for _, flagged, _ in item_history(copy)] == [False, True, False]


def test_a_lost_case_counts_against_the_seller(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    run_trust_jobs()
    before = seller_record(order.seller_id)
    assert before.counts["cases_lost"] == 0 and before.counts["orders"] == 1

    decide(agent, case_id, token, "refund_without_return", "missing_item")
    run_trust_jobs()

    after = seller_record(order.seller_id)
    assert after.counts["cases_lost"] == 1
    assert after.score < before.score
    assert seller_history(order.seller_id)[-1][2] == "dispute case closed"


def test_the_sweep_recomputes_what_a_lost_job_left_marked(app, settings):
    owner = make_member("sweeper")
    listing = listing_through_services(owner, _saree())
    app.extensions["redis"].flushdb()            # the queued jobs are lost
    assert ("listing", listing) in marks() and item_record(listing) is None
    clock.freeze(clock.now() + tasks.PENDING_GRACE)

    with db.unit_of_work():
        assert tasks.sweep_pending_trust() == 2   # the listing and its seller

    assert item_record(listing).excluded is False
    assert seller_record(owner).tier == "new"
    assert marks() == []


def test_a_mark_made_while_the_job_ran_survives_it(app):
    owner = make_member("racer")
    listing = listing_through_services(owner, _saree())
    with db.unit_of_work() as s:
        from trust.signals import pending
        version = pending.version_of(s, "listing", listing)
        pending.mark(s, "listing", listing, "a later change")   # lands mid-job
        assert pending.clear(s, "listing", listing, version) is False
    assert ("listing", listing) in marks()


def _saree() -> dict:
    return {"title": "Kanjivaram silk saree", "brand": "Nalli", "category": "sarees",
            "size": "Free size", "condition": "like_new", "price_paise": 450_000}


def test_the_sweeps_are_on_the_beat_well_inside_a_minute(app):
    from datetime import timedelta

    from foundation import jobs

    periodic = jobs.periodic_tasks()
    pending_sweep = periodic["trust.signals.tasks.sweep_pending_trust"]
    # A mark no job cleared waits at most the grace plus one beat period (plus the
    # worker's 15 s beat tick) before the sweep recomputes it.
    assert tasks.PENDING_GRACE + pending_sweep.every + timedelta(seconds=15) \
        <= timedelta(seconds=60)
    assert "trust.signals.tasks.sweep_stale_trust" in periodic
