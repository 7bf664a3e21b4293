"""Recording effects, re-arming them, and a staff member's retry of a dead one.

`record` is called inside the transaction of the ledger posting that causes the effect;
the delivery job is enqueued only after that transaction commits, and a failure to
enqueue (Redis down) is logged and left to the sweep: the request that caused it has
already committed and must not fail for it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, db, jobs
from foundation.audit.services import record as audit
from foundation.audit.services import snapshot
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound
from foundation.staff.models import StaffUser
from marketplace_core.outbox.models import EffectKind, EffectState, OutboxEffect

# Named, not imported: marketplace_core.outbox.tasks imports this module.
DELIVER_EFFECT = jobs.named("marketplace_core.outbox.tasks.deliver_effect")

log = logging.getLogger(__name__)
MAX_ERROR = 300


def record(s: Session, kind: EffectKind, reference: str, payload: dict,
           **ids: int | None) -> OutboxEffect:
    """The effect `reference` must have outside, written in the caller's transaction and
    delivered after it commits.  Recording a reference again returns the first row."""
    existing = by_reference(s, reference)
    if existing is not None:
        return existing
    effect = OutboxEffect(kind=str(kind), reference=reference, payload=payload,
                          state=EffectState.PENDING, attempts=0,
                          next_attempt_at=clock.now(), created_at=clock.now(), **ids)
    try:
        with s.begin_nested():
            s.add(effect)
            s.flush()
    except IntegrityError:
        return by_reference(s, reference)  # a concurrent transaction recorded it first
    arm_after_commit(s, effect)
    return effect


def by_reference(s: Session, reference: str) -> OutboxEffect | None:
    return s.execute(select(OutboxEffect).where(OutboxEffect.reference == reference)
                     ).scalar_one_or_none()


def get_effect(s: Session, effect_id: int) -> OutboxEffect:
    effect = s.get(OutboxEffect, effect_id)
    if effect is None:
        raise NotFound("No such effect.")
    return effect


def arm_after_commit(s: Session, effect: OutboxEffect, at: datetime | None = None) -> None:
    """Enqueue the effect's delivery once the transaction commits (at `at`, or now)."""
    effect_id, attempt = effect.id, effect.attempts
    db.after_commit(s, lambda: dispatch_now(effect_id, attempt, at))


def dispatch_now(effect_id: int, attempt: int, at: datetime | None = None, *,
                 sweep: bool = False) -> bool:
    """Put the effect's delivery on the queue; False (logged) when Redis refused it, in
    which case the sweep dispatches it later.  One job id per (effect, attempt), so a
    re-arm never queues one attempt twice; the sweep's own id per grace period, since the
    job it replaces may still read as started after its worker was killed."""
    job_id = f"outbox-{effect_id}-{attempt}"
    if sweep:
        grace = max(settings().OUTBOX_SWEEP_GRACE_SECONDS, 1)
        job_id += f"-sweep-{int(clock.now().timestamp()) // grace}"
    try:
        DELIVER_EFFECT.enqueue_now(effect_id, job_id=job_id, at=at)
    except Exception:  # noqa: BLE001 - any Redis failure: the sweep is the safety net
        log.warning("could not enqueue the delivery of effect %s; the sweep will",
                    effect_id, exc_info=True)
        return False
    return True


def due_for_sweep(s: Session, limit: int = 500) -> list[tuple[int, int]]:
    """(id, attempts) of pending effects whose next try is due and whose own job has had
    OUTBOX_SWEEP_GRACE_SECONDS to run."""
    cutoff = clock.now() - timedelta(seconds=settings().OUTBOX_SWEEP_GRACE_SECONDS)
    rows = s.execute(select(OutboxEffect.id, OutboxEffect.attempts)
                     .where(OutboxEffect.state == EffectState.PENDING,
                            OutboxEffect.next_attempt_at <= cutoff)
                     .order_by(OutboxEffect.next_attempt_at).limit(limit)).all()
    return [(row.id, row.attempts) for row in rows]


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: the base after the first failure, doubling, capped."""
    base = settings().OUTBOX_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0),
                                 settings().OUTBOX_RETRY_MAX_SECONDS))


def retry_dead(s: Session, effect_id: int, staff: StaffUser) -> OutboxEffect:
    """A staff member sends a dead effect again: pending with a fresh set of tries,
    audited in the same transaction, delivered after the commit."""
    effect = locked(s, effect_id)
    if effect.state != EffectState.DEAD:
        raise Conflict(f"The effect is {effect.state}; only a dead effect can be retried.",
                       code="not_dead")
    before = snapshot(effect, "state", "attempts", "last_error")
    effect.state = EffectState.PENDING
    effect.attempts = 0
    effect.next_attempt_at = clock.now()
    s.flush()
    audit(s, staff, "outbox.retry", "outbox_effect", effect.id, before=before,
          after=snapshot(effect, "state", "attempts", "reference"))
    arm_after_commit(s, effect)
    return effect


def locked(s: Session, effect_id: int) -> OutboxEffect:
    """The effect re-read under a row lock (PostgreSQL), so two deliveries take turns."""
    effect = s.execute(select(OutboxEffect).where(OutboxEffect.id == effect_id)
                       .with_for_update().execution_options(populate_existing=True)
                       ).scalar_one_or_none()
    if effect is None:
        raise NotFound("No such effect.")
    return effect


def short_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
