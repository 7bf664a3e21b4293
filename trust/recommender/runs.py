"""Runs of the batch: pending -> running -> succeeded | failed, with progress the console
shows while it works.

A run is created (and audited when staff start it) in the caller's transaction; its job
is enqueued after the commit with the run's id only.  The job claims the run with a
conditional UPDATE, so a second delivery finds it taken and does nothing.  Progress is
committed through short side sessions; the run's result and its rows commit together
in the job's own transaction, and any failure rolls them back and marks the run failed.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foundation import clock, db, jobs
from foundation.audit import services as audit
from foundation.errors import Conflict, NotFound, ValidationFailed
from foundation.transitions import claim_pending_run

from . import batch
from .models import RecommendationRun, RunKind, RunState

# Named, not imported: trust.recommender.tasks imports this module.
RUN_RECOMMENDATIONS = jobs.named("trust.recommender.tasks.run_recommendations")

log = logging.getLogger(__name__)
KINDS = (RunKind.TRAIN, RunKind.PRECOMPUTE)
ACTIVE = (RunState.PENDING.value, RunState.RUNNING.value)


def start_run(s: Session, kind: str, requested_by: str, *, staff=None,
              enqueue: bool = True) -> RecommendationRun:
    if kind not in KINDS:
        raise ValidationFailed("Unknown run kind.", fields={"kind": "train or precompute"})
    busy = s.scalars(select(RecommendationRun).where(
        RecommendationRun.kind == kind, RecommendationRun.state.in_(ACTIVE))).first()
    if busy is not None:
        raise Conflict(f"A {kind} run ({busy.id}) is already {busy.state}.",
                       code="run_in_progress")
    run = RecommendationRun(kind=kind, requested_by=requested_by, message="queued")
    s.add(run)
    s.flush()
    if staff is not None:
        audit.record(s, staff, f"recommendations.{kind}", "rec_run", run.id,
                     after={"kind": kind, "state": run.state})
    if enqueue:
        RUN_RECOMMENDATIONS.enqueue(run.id)
    return run


def execute(s: Session, run_id: int, *, as_of: datetime | None = None,
            also_report=None) -> RecommendationRun | None:
    run = _claim(s, run_id)
    if run is None:
        return None
    progress = _progress_writer(run.id, also_report)
    try:
        if run.kind == RunKind.TRAIN:
            model = batch.train_model(s, run, as_of=as_of, progress=progress)
            message = f"ranker {model.id} trained"
        else:
            members = batch.precompute(s, run, as_of=as_of, progress=progress)
            message = f"{members} members' candidates stored"
    except Exception as exc:  # noqa: BLE001 - any failure ends the run, visibly
        log.exception("recommendation run %s failed", run_id)
        s.rollback()
        _fail(s, run_id, exc)
        return s.get(RecommendationRun, run_id)
    run.state = RunState.SUCCEEDED.value
    run.finished_at = clock.now()
    run.message = message
    run.done = run.total = max(run.total, run.done, 1)
    s.flush()
    return run


def _claim(s: Session, run_id: int) -> RecommendationRun | None:
    return claim_pending_run(s, RecommendationRun, run_id)


def _progress_writer(run_id: int, also_report=None):
    def write(done: int, total: int, message: str) -> None:
        with db.SessionFactory() as side:
            side.execute(update(RecommendationRun).where(RecommendationRun.id == run_id)
                         .values(done=int(done), total=int(total), message=str(message)[:200]))
            side.commit()
        if also_report is not None:
            also_report(done, total, message)
    return write


def _fail(s: Session, run_id: int, exc: BaseException) -> None:
    run = s.get(RecommendationRun, run_id)
    s.refresh(run)
    run.state = RunState.FAILED.value
    run.error = f"{type(exc).__name__}: {exc}"[:2000]
    run.message = "failed"
    run.finished_at = clock.now()
    s.flush()


def fail_stale_runs(s: Session, older_than: timedelta) -> list[int]:
    """Runs pending or running long past the job's timeout: the worker died; fail them so
    the next run can start."""
    stale = list(s.scalars(select(RecommendationRun).where(
        RecommendationRun.state.in_(ACTIVE),
        RecommendationRun.created_at < clock.now() - older_than)))
    for run in stale:
        run.state = RunState.FAILED.value
        run.error = f"no result after {older_than}: the worker stopped; run again"
        run.message = "failed"
        run.finished_at = clock.now()
    s.flush()
    return [run.id for run in stale]


def get_run(s: Session, run_id: int) -> RecommendationRun:
    run = s.get(RecommendationRun, run_id)
    if run is None:
        raise NotFound("No such recommendation run.")
    return run


def recent_runs(s: Session, limit: int = 10) -> list[RecommendationRun]:
    return list(s.scalars(select(RecommendationRun).order_by(RecommendationRun.id.desc())
                          .limit(limit)))


def run_json(run: RecommendationRun) -> dict[str, Any]:
    return {"id": run.id, "kind": run.kind, "state": run.state, "done": run.done,
            "total": run.total, "message": run.message, "error": run.error,
            "model_id": run.model_id, "metrics": run.metrics,
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}
