"""Re-index the whole catalogue: a VisionRun row that walks every listing photo in id
order, in batches, each batch committed with the run's progress, so a run whose worker
died resumes after the last photo it committed.

    run = start_run(s, requested_by="cli", recompute_all=False)   # pending
    advance(run_id, progress)       # runs batches until done; its own unit of work each
    resumable_run(s)                # the newest run left pending or running, if any

Without recompute_all, photos whose signature is current are skipped (cheap); with it,
every photo is signed again (after an engine change, ENGINE_VERSION bumps do that too).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foundation import clock, db, jobs
from foundation.audit.services import record
from foundation.errors import Conflict, NotFound, PermissionDenied
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from marketplace_core.listings.models import ListingPhoto
from vision.models import RunState, VisionRun
from vision.pipeline import BatchOutcome, sign_photos

# Named, not imported: vision.tasks imports this module.
RUN_REINDEX = jobs.named("vision.tasks.run_reindex")

BATCH = 32
LOCK_SECONDS = 300     # a killed worker's hold on a run lapses after this
ERROR_MAX = 2000
Progress = Callable[[VisionRun], None]


def start_run(s: Session, *, requested_by: str, recompute_all: bool = False) -> VisionRun:
    """A new pending run; refused while another one is unfinished (resume that one)."""
    unfinished = resumable_run(s)
    if unfinished is not None:
        raise Conflict(f"Re-index run {unfinished.id} is still {unfinished.state}; resume it.",
                       code="run_unfinished")
    run = VisionRun(state=RunState.PENDING, recompute_all=recompute_all,
                    requested_by=requested_by[:80], created_at=clock.now())
    s.add(run)
    s.flush()
    return run


def request_run(s: Session, actor: StaffUser, *, recompute_all: bool = False) -> VisionRun:
    """An analyst starts a re-index from the console: a pending run, audited, worked by
    the vision queue once this transaction commits."""
    if not actor.can(Permission.VISION_MANAGE_MODELS):
        raise PermissionDenied("Re-indexing needs the vision.manage_models permission.",
                               code="not_a_model_manager")
    run = start_run(s, requested_by=f"staff:{actor.id}", recompute_all=recompute_all)
    record(s, actor, "vision.reindex_requested", "vision_run", run.id,
                 after={"recompute_all": recompute_all})
    RUN_REINDEX.enqueue(run.id)
    return run


def recent_runs(s: Session, limit: int = 20) -> list[VisionRun]:
    return list(s.scalars(select(VisionRun).order_by(VisionRun.id.desc()).limit(limit)))


def resumable_run(s: Session) -> VisionRun | None:
    return s.scalar(select(VisionRun).where(VisionRun.state.in_(
        (RunState.PENDING, RunState.RUNNING))).order_by(VisionRun.id.desc()).limit(1))


def advance(run_id: int, progress: Progress | None = None) -> VisionRun:
    """Run (or resume) the run to its end, one committed batch at a time. One process
    at a time works a run: a second gets 409 run_busy."""
    lock = jobs.connection().lock(f"vision:run:{run_id}", timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        raise Conflict(f"Re-index run {run_id} is being worked by another process.",
                       code="run_busy")
    try:
        return _advance(run_id, progress, lock)
    finally:
        with contextlib.suppress(Exception):  # lapsed: someone else may hold it now
            lock.release()


def _advance(run_id: int, progress: Progress | None, lock) -> VisionRun:
    with db.unit_of_work() as s:
        run = _load(s, run_id)
        if run.state in (RunState.SUCCEEDED, RunState.FAILED):
            return run                       # delivered twice: nothing left to do
        _begin(s, run)
    while True:
        try:
            with db.unit_of_work() as s:
                run = _load(s, run_id)
                more = _one_batch(s, run)
                snapshot = _detached_copy(run)
        except Exception as exc:
            _fail(run_id, exc)
            raise
        lock.reacquire()
        if progress:
            progress(snapshot)
        if not more:
            break
    with db.unit_of_work() as s:
        run = _load(s, run_id)
        run.state = RunState.SUCCEEDED
        run.finished_at = clock.now()
        return _detached_copy(run)


def _begin(s: Session, run: VisionRun) -> None:
    if run.state == RunState.PENDING:
        run.state = RunState.RUNNING
        run.started_at = clock.now()
    # Counting once at the start (and again on resume) keeps the bar honest when photos
    # arrive during a long run; those are signed by their own photo.stored jobs anyway.
    run.total = s.scalar(select(func.count()).select_from(ListingPhoto)) or 0


def _one_batch(s: Session, run: VisionRun) -> bool:
    ids = list(s.scalars(select(ListingPhoto.id).where(ListingPhoto.id > run.last_photo_id)
                         .order_by(ListingPhoto.id).limit(BATCH)))
    if not ids:
        return False
    outcome: BatchOutcome = sign_photos(s, ids, recompute=run.recompute_all)
    run.done += len(ids)
    run.failed += outcome.failed
    run.flags_raised += outcome.flags
    run.last_photo_id = ids[-1]
    return len(ids) == BATCH


def _fail(run_id: int, exc: Exception) -> None:
    with db.unit_of_work() as s:
        run = _load(s, run_id)
        run.state = RunState.FAILED
        run.finished_at = clock.now()
        run.error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]


def _load(s: Session, run_id: int) -> VisionRun:
    run = s.get(VisionRun, run_id)
    if run is None:
        raise NotFound(f"No re-index run {run_id}.", code="run_not_found")
    return run


def _detached_copy(run: VisionRun) -> VisionRun:
    """The run's values as a plain object the caller may read after the session closes."""
    copy = VisionRun(**{c.key: getattr(run, c.key) for c in VisionRun.__table__.columns})
    return copy
