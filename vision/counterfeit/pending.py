"""Marks of listings whose counterfeit risk must be scored again (`CounterfeitPending`).

The event handler marks in the transaction of the change and enqueues the scoring job
after the commit; the job clears the mark at the version it read before scoring; the
sweep enqueues scoring for any mark left behind (the enqueue was lost, or the listing's
job was already running when the change committed, so no second one was queued).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock
from vision.counterfeit.models import CounterfeitPending


def mark(s: Session, listing_id: int) -> None:
    """Mark (or mark again: the version grows) the listing for scoring."""
    now = clock.now()
    bumped = s.execute(update(CounterfeitPending)
                       .where(CounterfeitPending.listing_id == listing_id)
                       .values(version=CounterfeitPending.version + 1, marked_at=now)
                       .execution_options(synchronize_session=False)).rowcount
    if bumped:
        return
    try:
        with s.begin_nested():   # another transaction may create the same mark at once
            s.add(CounterfeitPending(listing_id=listing_id, version=1, marked_at=now))
    except IntegrityError:
        mark(s, listing_id)


def version_of(s: Session, listing_id: int) -> int | None:
    return versions_of(s, [listing_id]).get(listing_id)


def versions_of(s: Session, listing_ids: list[int]) -> dict[int, int]:
    """The marks' versions of those listings that have one, in one query."""
    return dict(s.execute(select(CounterfeitPending.listing_id, CounterfeitPending.version)
                          .where(CounterfeitPending.listing_id.in_(listing_ids))).all())


def clear(s: Session, listing_id: int, version: int | None) -> bool:
    """Clear the mark if it is still the one read before scoring (a newer mark stays)."""
    if version is None:
        return False
    return s.execute(delete(CounterfeitPending).where(
        CounterfeitPending.listing_id == listing_id,
        CounterfeitPending.version == version)
        .execution_options(synchronize_session=False)).rowcount == 1


def overdue(s: Session, older_than: timedelta, limit: int) -> list[int]:
    """Listings whose mark no job cleared in time, oldest first."""
    return list(s.scalars(select(CounterfeitPending.listing_id).where(
        CounterfeitPending.marked_at <= clock.now() - older_than)
        .order_by(CounterfeitPending.marked_at).limit(limit)))
