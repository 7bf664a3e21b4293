"""The recommender's jobs: a batch run (train or precompute), and the sweep that fails
runs whose worker died."""
from __future__ import annotations

from datetime import timedelta

from foundation import db
from foundation.jobs import job, periodic

RUN_TIMEOUT_SECONDS = 3600


@job(queue="default", timeout=RUN_TIMEOUT_SECONDS)
def run_recommendations(run_id: int) -> None:
    """Idempotent: a run already claimed (a second delivery) is left alone."""
    from . import runs

    runs.execute(db.session(), run_id)


@periodic(every=timedelta(minutes=15))
def fail_lost_recommendation_runs() -> None:
    from . import runs

    runs.fail_stale_runs(db.session(), timedelta(seconds=RUN_TIMEOUT_SECONDS + 900))
