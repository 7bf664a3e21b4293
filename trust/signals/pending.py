"""Marks of sellers and listings whose trust must be computed again (`TrustPending`).

A handler marks in the transaction of the change and enqueues the recompute job after
the commit; the job clears the mark it handled; the sweep handles any mark left behind.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock

from .models import TrustPending

SELLER = "seller"
LISTING = "listing"
SUBJECTS = (SELLER, LISTING)


def mark(s: Session, subject: str, subject_id: int, cause: str) -> None:
    """Mark (or mark again: the version grows) `subject` for a recompute."""
    if subject not in SUBJECTS:
        raise ValueError(f"unknown trust subject {subject!r}")
    now, cause = clock.now(), cause[:60]
    bumped = s.execute(update(TrustPending).where(
        TrustPending.subject == subject, TrustPending.subject_id == subject_id).values(
        version=TrustPending.version + 1, cause=cause, marked_at=now)).rowcount
    if bumped:
        return
    try:
        with s.begin_nested():   # another transaction may create the same mark at once
            s.add(TrustPending(subject=subject, subject_id=subject_id, version=1,
                               cause=cause, marked_at=now))
    except IntegrityError:
        mark(s, subject, subject_id, cause)


def version_of(s: Session, subject: str, subject_id: int) -> int | None:
    return s.scalar(select(TrustPending.version).where(
        TrustPending.subject == subject, TrustPending.subject_id == subject_id))


def clear(s: Session, subject: str, subject_id: int, version: int | None) -> bool:
    """Clear the mark if it is still the one the job read (a newer mark stays)."""
    if version is None:
        return False
    return s.execute(delete(TrustPending).where(
        TrustPending.subject == subject, TrustPending.subject_id == subject_id,
        TrustPending.version == version)).rowcount == 1


def versions_of(s: Session, subject: str, subject_ids: Iterable[int]) -> dict[int, int]:
    """The marks' versions of these subjects (those marked), read before a batch recompute."""
    ids = list(subject_ids)
    if not ids:
        return {}
    return dict(s.execute(select(TrustPending.subject_id, TrustPending.version).where(
        TrustPending.subject == subject, TrustPending.subject_id.in_(ids))).all())


def clear_versions(s: Session, subject: str, versions: dict[int, int]) -> list[int]:
    """Clear each mark still at the version read; the subjects cleared."""
    return [subject_id for subject_id, version in versions.items()
            if clear(s, subject, subject_id, version)]


def job_id(subject: str, subject_id: int) -> str:
    """The one waiting recompute job of a subject."""
    return f"trust-{subject}-{subject_id}"


def overdue(s: Session, older_than: timedelta, limit: int) -> list[TrustPending]:
    """Marks no job cleared in time, oldest first."""
    return list(s.scalars(select(TrustPending).where(
        TrustPending.marked_at <= clock.now() - older_than)
        .order_by(TrustPending.marked_at).limit(limit)))


def count(s: Session, subjects: Iterable[str] = SUBJECTS) -> int:
    return len(list(s.scalars(select(TrustPending.subject_id).where(
        TrustPending.subject.in_(list(subjects))))))
