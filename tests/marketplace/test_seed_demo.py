"""`flask seed`: a small demo marketplace built through the real services."""
import json
import re

from sqlalchemy import func, select

from authentication.models import (
    AuthenticationRequest,
    RequestEvent,
    RequestSkip,
    ReviewDecision,
)
from foundation import db
from marketplace_core.ledger.invariants import check_invariants
from marketplace_core.listings.models import Listing, ListingPhoto
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order
from marketplace_core.seed.models import DemoListingTruth, DemoMemberTaste
from marketplace_core.shipping.models import TrackingEvent


def count(model, *where) -> int:
    return db.session().scalar(select(func.count()).select_from(model).where(*where))


def test_seed_builds_a_living_marketplace_with_balanced_books(app, staff):
    staff("senior_authenticator")
    result = app.test_cli_runner().invoke(args=["seed", "--listings", "80", "--seed", "3",
                                                "--workers", "1"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert count(Member) == count(DemoMemberTaste) >= 30
    assert count(Listing) == 80 == count(DemoListingTruth)
    assert count(ListingPhoto) >= 80
    statuses = set(db.session().scalars(select(Listing.status)))
    assert {"live", "sold"} <= statuses
    order_states = set(db.session().scalars(select(Order.status)))
    assert {"placed", "shipped", "delivered", "completed", "cancelled"} <= order_states
    assert count(TrackingEvent) > 0  # scans went through the signed carrier webhook
    assert count(DemoListingTruth, DemoListingTruth.counterfeit.is_(True)) > 0
    assert check_invariants(db.session()) == []
    report = seed_report(result.output)
    assert_skipped_requests_still_wait(report["authentication_reviews"],
                                       report["authentication_history"])


def seed_report(output: str) -> dict:
    """The JSON report `flask seed` prints after its progress bars."""
    return json.loads(re.search(r"^\{$.*", output, re.MULTILINE | re.DOTALL).group(0))


def assert_skipped_requests_still_wait(reviews: dict, history: dict) -> None:
    """The demo reviewer skips about half of the backlog: those requests must still be
    queued (with their skip recorded) for the demo's own reviewers."""
    assert reviews["skipped"] > 0 and reviews["authentic"] + reviews["counterfeit"] > 0
    s = db.session()
    skipped = set(s.scalars(select(RequestSkip.request_id)))
    assert len(skipped) == reviews["skipped"]
    states = dict(s.execute(select(AuthenticationRequest.id, AuthenticationRequest.state)
                            .where(AuthenticationRequest.id.in_(skipped))).all())
    assert states == dict.fromkeys(skipped, "queued")
    last_reasons = {request_id: s.scalar(
        select(RequestEvent.reason).where(RequestEvent.request_id == request_id)
        .order_by(RequestEvent.id.desc()).limit(1)) for request_id in skipped}
    # ...then the SLA sweep the seed runs flags the few left waiting past their SLA.
    assert set(last_reasons.values()) <= {"skipped", "sla_breached"}
    assert "skipped" in set(last_reasons.values())
    decided = s.scalar(select(func.count(func.distinct(ReviewDecision.request_id))))
    # The past reviews the seed records (cheaper listings pulled in and judged) add theirs.
    assert history["authentic"] + history["counterfeit"] > 0
    assert decided == (reviews["authentic"] + reviews["counterfeit"]
                       + history["authentic"] + history["counterfeit"])


def test_seed_refuses_a_database_that_has_members(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed", "--listings", "10", "--workers", "1"])
    again = runner.invoke(args=["seed", "--listings", "10", "--workers", "1"])
    assert again.exit_code != 0 and "already has members" in again.output
