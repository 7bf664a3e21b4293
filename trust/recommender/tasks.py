"""The recommender's jobs: a batch run (train or precompute), the sweep that fails runs
whose worker died, and the flush of buffered feed impressions."""
from __future__ import annotations

from datetime import timedelta

from foundation import db
from foundation.jobs import job

from . import runs
from .impressions import flush_impressions

RUN_TIMEOUT_SECONDS = 3600


@job(queue="default", timeout=RUN_TIMEOUT_SECONDS)
def run_recommendations(run_id: int) -> None:
    """Idempotent: a run already claimed (a second delivery) is left alone."""
    runs.execute(db.session(), run_id)


@job(queue="scheduled")
def fail_lost_recommendation_runs() -> None:
    runs.fail_stale_runs(db.session(), timedelta(seconds=RUN_TIMEOUT_SECONDS + 900))


@job(queue="scheduled")
def flush_feed_impressions() -> None:
    """Idempotent: a page already written is skipped (see impressions.py)."""
    flush_impressions(db.session())
