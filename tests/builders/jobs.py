"""A job for the tests of the job machinery: it leaves an audit row, so that a test can see
that it ran, where and how often."""
from __future__ import annotations

from foundation import db, jobs
from foundation.audit.services import record


@jobs.job(queue="default")
def note_in_audit(label: str) -> None:
    record(db.session(), None, "test.job_ran", "test", label)
