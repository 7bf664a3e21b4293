"""Feed impressions: buffered in Redis per served page, written to the table in batches,
each page exactly once whatever fails in between."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from foundation import db, jobs
from trust.recommender import impressions
from trust.recommender.exposure import exposure
from trust.recommender.impressions import buffer_page, buffered_pages, flush_impressions
from trust.recommender.models import FeedImpression

SERVED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _serve(member_id: int, listings: list[int], flagged: tuple[int, ...] = ()) -> None:
    with db.unit_of_work() as s:
        buffer_page(s, member_id, SERVED, [
            (listing, 900 + listing, position, listing in flagged, "new", "brand")
            for position, listing in enumerate(listings, start=1)])


def _stored() -> list[tuple[int, int, int, bool]]:
    with db.unit_of_work() as s:
        return [tuple(r) for r in s.execute(
            select(FeedImpression.member_id, FeedImpression.listing_id,
                   FeedImpression.position, FeedImpression.flagged)
            .order_by(FeedImpression.member_id, FeedImpression.position))]


def _flush() -> int:
    with db.unit_of_work() as s:
        return flush_impressions(s)


def test_a_page_is_buffered_only_when_its_request_commits(app):
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        buffer_page(s, 1, SERVED, [(10, 910, 1, False, "new", "brand")])
        raise RuntimeError("the request failed: nothing was served")
    assert buffered_pages() == 0
    _serve(1, [10, 11])
    assert buffered_pages() == 1 and _stored() == []


def test_the_periodic_flush_writes_every_buffered_row_then_empties_the_buffer(app):
    _serve(1, [10, 11, 12], flagged=(11,))
    _serve(2, [20])
    jobs.execute("trust.recommender.tasks.flush_feed_impressions", [], {})
    assert _stored() == [(1, 10, 1, False), (1, 11, 2, True), (1, 12, 3, False),
                         (2, 20, 1, False)]
    with db.unit_of_work() as s:
        row = s.scalars(select(FeedImpression).where(FeedImpression.listing_id == 20)).one()
        assert (row.seller_id, row.seller_tier, row.source, row.served_at) == \
            (920, "new", "brand", SERVED)
    assert buffered_pages() == 0 and _flush() == 0


def test_pages_served_during_a_flush_wait_for_the_next_one(app):
    _serve(1, [10])
    with db.unit_of_work() as s:
        assert flush_impressions(s) == 1
        with db.SessionFactory() as other:   # another request, while the flush is open
            buffer_page(other, 2, SERVED, [(20, 920, 1, False, "new", "brand")])
            other.commit()
    assert buffered_pages() == 1
    assert _flush() == 1
    assert [r[:2] for r in _stored()] == [(1, 10), (2, 20)]


def test_a_flush_that_rolled_back_is_retried_and_writes_once(app):
    _serve(1, [10, 11])
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        flush_impressions(s)
        raise RuntimeError("the database went away before the commit")
    assert _stored() == [] and buffered_pages() == 1
    assert _flush() == 0          # its lock holds until it expires ...
    jobs.connection().delete(impressions.LOCK)   # ... as it does after LOCK_SECONDS
    assert _flush() == 2
    assert [r[1] for r in _stored()] == [10, 11]


def test_a_flush_that_died_after_its_commit_does_not_write_twice(app):
    _serve(1, [10, 11])
    r = jobs.connection()
    r.rename(impressions.BUFFER, "copy")      # keep the page as the dying flush saw it
    r.lpush(impressions.BUFFER, *r.lrange("copy", 0, -1))
    assert _flush() == 2
    r.rename("copy", impressions.INFLIGHT)    # its in-flight list was never dropped
    _serve(2, [20])
    assert _flush() == 0          # the leftover batch first: already written
    assert _flush() == 1
    assert [r[:2] for r in _stored()] == [(1, 10), (1, 11), (2, 20)]


def test_the_exposure_dashboard_counts_pages_not_flushed_yet(app):
    _serve(1, [10, 11, 12], flagged=(12,))
    with db.unit_of_work() as s:
        seen = exposure(s, now=SERVED)
    assert (seen.total, seen.flagged, seen.by_tier) == (3, 1, {"new": 3})
