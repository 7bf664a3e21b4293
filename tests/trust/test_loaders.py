"""The feed's loaders: the stored risk, with the listing's status of the moment winning
(before any job runs), and the neutral prior for what was never scored."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from foundation import clock, db
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from tests.builders.listings import listing_through_services
from tests.builders.members import make_member
from tests.trust.support import run_trust_jobs
from trust.signals import load_trust
from trust.signals.counting import item_signals
from trust.weights import TrustWeights

KURTA = {"title": "Lucknowi chikankari kurta", "brand": "Ada", "category": "kurtas",
         "size": "L", "condition": "new_with_tags", "price_paise": 280_000}


def _change(listing_id: int, fn) -> None:
    with db.unit_of_work() as s:
        listing = s.get(Listing, listing_id)
        fn(s, s.get(Member, listing.seller_id), listing)


def _loaded(listing_id: int):
    with db.unit_of_work() as s:
        items, sellers = load_trust(s, [listing_id, listing_id])
        return items[listing_id], sellers


def test_a_withdrawn_then_relisted_listing_follows_its_status_before_any_job(app):
    seller = make_member("farah")
    listing = listing_through_services(seller, KURTA)
    run_trust_jobs()
    _change(listing, listings.withdraw)
    item, _ = _loaded(listing)                    # no job has run since
    assert (item.excluded, item.exclusion_reason) == (True, "removed")
    run_trust_jobs()
    _change(listing, listings.relist)
    item, sellers = _loaded(listing)              # the stored row still says removed
    assert (item.excluded, item.exclusion_reason) == (False, None)
    assert sellers[seller].tier.value == "new"


def test_never_scored_listings_and_sellers_get_the_neutral_prior(app):
    seller = make_member("gauri")
    listing = listing_through_services(seller, KURTA)
    app.extensions["redis"].flushdb()             # nothing computed them
    item, sellers = _loaded(listing)
    assert (item.excluded, item.flagged) == (False, False)
    assert sellers[seller].score == TrustWeights().neutral_score
    with db.unit_of_work() as s:
        assert load_trust(s, []) == ({}, {})


def test_a_listing_re_photographed_after_authentication_is_no_longer_authenticated(app):
    """One rule, `Listing.is_authenticated`, in Python and in the trust queries alike."""
    seller = make_member("hema")
    listing = listing_through_services(seller, KURTA)

    def authenticated_everywhere() -> tuple[bool, bool, bool, list[int]]:
        item, _ = _loaded(listing)
        with db.unit_of_work() as s:
            signals = item_signals(s, [listing])[listing]
            in_sql = list(s.scalars(select(Listing.id).where(Listing.is_authenticated)))
            return s.get(Listing, listing).is_authenticated, item.authenticated, \
                signals.authenticated, in_sql

    assert authenticated_everywhere() == (False, False, False, [])
    approved = clock.now()                        # after the photos were added
    with db.unit_of_work() as s:
        s.get(Listing, listing).authenticated_at = approved
    assert authenticated_everywhere() == (True, True, True, [listing])
    with db.unit_of_work() as s:
        s.get(Listing, listing).photos_changed_at = approved + timedelta(minutes=5)
    assert authenticated_everywhere() == (False, False, False, [])
