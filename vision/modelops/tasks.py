"""The registry's jobs, on the "vision" queue so that training never delays timers."""
from __future__ import annotations

from datetime import timedelta

from foundation import db
from foundation.jobs import job
from vision.modelops import services

TRAINING_TIMEOUT_SECONDS = 3600
# A run older than its job's hard timeout plus this can no longer finish.
STALE_MARGIN = timedelta(minutes=15)


@job(queue="vision", timeout=TRAINING_TIMEOUT_SECONDS)
def run_training(run_id: int) -> int | None:
    """Train a pending run; a second delivery of the same job finds it taken and stops."""
    version = services.train_run(db.session(), run_id)
    return version.id if version else None


@job(queue="scheduled")
def sweep_stale_training_runs() -> list[int]:
    return services.fail_stale_runs(
        db.session(), timedelta(seconds=TRAINING_TIMEOUT_SECONDS) + STALE_MARGIN)
