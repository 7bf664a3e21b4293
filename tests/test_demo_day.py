"""`make demo`'s first run, small: the seed and the trust recompute it runs leave a console
that looks like a real day's work, and the worker that starts next finds nothing the
setup already computed left for it to compute again.  (The counterfeit model's training
and scoring are left out to keep it fast: tests/vision covers them.)"""
from __future__ import annotations

from datetime import timedelta

from rq import SimpleWorker
from sqlalchemy import func, select

from authentication.models import AuthenticationRequest, RequestState
from console.demo import ProgressLine, ensure_demo_staff
from disputes.models import DisputeCase
from foundation import clock, db, jobs
from marketplace_core.ledger.invariants import check_invariants
from marketplace_core.listings.models import Listing, ListingStatus
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order
from trust.signals.models import ItemRiskRecord, SellerTrustRecord, TrustPending
from vision.models import DuplicateFlag, FlagKind

RECOMPUTE = "trust.signals.tasks.recompute_trust"


def _first_run(app, settings, listings: int) -> list[str]:
    """What `make demo` runs before it starts the worker, in this process; the ids of the
    trust recompute jobs the seed's events had queued by the end of the seed."""
    ensure_demo_staff(settings)
    runner = app.test_cli_runner()
    queued = []
    for args in (["seed", "--listings", str(listings), "--seed", "5", "--workers", "1"],
                 ["trust", "recompute"]):
        queued = queued or _queued(RECOMPUTE)
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    db.session.remove()
    return queued or _queued(RECOMPUTE)


def _queued(name: str) -> list[str]:
    return [job.id for queue in jobs.QUEUES for job in jobs.queue(queue).jobs
            if job.description == name]


def test_the_demo_opens_on_a_day_of_work_and_the_worker_recomputes_nothing(app, settings):
    seeded_jobs = _first_run(app, settings, listings=200)
    s = db.session()
    now = clock.now()

    tiers = dict(s.execute(select(SellerTrustRecord.tier, func.count())
                           .group_by(SellerTrustRecord.tier)).all())
    assert tiers.get("trusted", 0) + tiers.get("top", 0) > 0, tiers
    assert tiers.get("watch", 0) > 0 and tiers.get("risky", 0) > 0, tiers

    first_order = s.scalar(select(func.min(Order.placed_at)))
    assert now - first_order > timedelta(days=90)          # months of history
    closed = dict(s.execute(select(DisputeCase.state, func.count())
                            .group_by(DisputeCase.state)).all())
    assert any(state.startswith("closed_refund") for state in closed), closed
    assert any(state.startswith("closed_released") for state in closed), closed
    assert check_invariants(s) == []

    waiting = list(s.scalars(select(AuthenticationRequest).where(
        AuthenticationRequest.state == RequestState.QUEUED)))
    breached = [r for r in waiting if r.sla_breached_at is not None]
    assert breached and all(r.sla_due_at <= now for r in breached)
    within = [r for r in waiting if r.sla_due_at > now]
    assert len(within) > len(breached), (len(within), len(breached))

    open_cases = list(s.scalars(select(DisputeCase).where(DisputeCase.closed_at.is_(None))))
    late = [case for case in open_cases if case.sla_breached_at is not None]
    assert late and all(case.sla_due_at <= now for case in late)   # the queue's breach
    assert len(late) < len(open_cases)

    flagged = set(s.scalars(select(DuplicateFlag.listing_id)))
    assert flagged                                           # planted and flagged already
    _assert_a_removed_fake_returns(s)
    risks = dict(s.execute(select(ItemRiskRecord.listing_id, ItemRiskRecord.flagged)).all())
    assert flagged <= {listing_id for listing_id, on in risks.items() if on}
    assert s.scalar(select(func.count()).select_from(TrustPending)) == 0

    assert seeded_jobs   # the seed's events queued them, as they do in production
    assert _queued(RECOMPUTE) == []   # the recompute that cleared their marks deleted them
    computed = dict(s.execute(select(SellerTrustRecord.seller_id,
                                     SellerTrustRecord.computed_at)).all())
    db.session.remove()
    # The worker's first burst on the trust queue, run for real: whatever else the seed
    # queued there recomputes none of the seeded sellers.
    SimpleWorker([jobs.queue("default")], connection=jobs.connection()).work(
        burst=True, logging_level="WARNING")
    assert dict(db.session().execute(select(SellerTrustRecord.seller_id,
                                            SellerTrustRecord.computed_at)).all()) == computed


def _assert_a_removed_fake_returns(s) -> None:
    """One duplicate group: a fake the team removed, its photos back today in a listing of
    another closet and in one of an account opened this morning."""
    flags = list(s.scalars(select(DuplicateFlag).where(
        DuplicateFlag.kind == FlagKind.RETURNING_REMOVED)))
    assert flags
    (group,) = {flag.group_id for flag in flags}
    members = list(s.scalars(select(DuplicateFlag).where(DuplicateFlag.group_id == group)))
    listing_ids = {flag.listing_id for flag in members} | \
        {flag.matched_listing_id for flag in members}
    listings = [s.get(Listing, listing_id) for listing_id in listing_ids]
    assert [listing.status for listing in listings].count(ListingStatus.REMOVED) == 1
    newcomer = s.scalar(select(Member).where(Member.username == "fresh_closet"))
    assert clock.now() - newcomer.created_at < timedelta(days=1)
    assert len({listing.seller_id for listing in listings}) == 3
    assert newcomer.id in {listing.seller_id for listing in listings}


def test_off_a_terminal_a_setup_step_prints_its_progress_at_most_every_30_s(capsys):
    seconds = [0.0]
    line = ProgressLine("  seeding", clock=lambda: seconds[0])
    line.show("10/2000 listings")          # a reading right after the label: held back
    seconds[0] = 31
    line.show("10/2000 listings")          # the same reading, 30 s on: printed
    line.show("20/2000 listings")          # changed, but too soon
    line.show("30/2000 listings", now=True)
    line.show("30/2000 listings", now=True)  # unchanged: not again
    line.finish("done in 40 s")
    assert capsys.readouterr().out.splitlines() == [
        "  seeding...", "  seeding... 10/2000 listings", "  seeding... 30/2000 listings",
        "  seeding: done in 40 s"]
