"""Jobs through faults: a Redis that is down when a transaction commits, and retries
with backoff (a work horse killed mid-job: tests/test_killed_workers.py)."""
from __future__ import annotations

import dataclasses
import logging

import pytest
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from foundation import db, jobs
from foundation.audit.models import AuditEvent
from foundation.audit.services import record
from marketplace_core.orders.models import Order
from tests.builders.listings import live_listing
from tests.builders.members import register
from tests.deployment import free_port
from tests.helpers import signed_in


@jobs.job(queue="default")
def note_ran(label: str) -> None:
    record(db.session(), None, "test.resilient_job_ran", "test", label)


@jobs.job(queue="default", retries=(0, 0))
def fails_once_then_succeeds(label: str) -> None:
    """Fails on its first try; the second try records that it ran."""
    if jobs.connection().incr(f"test:tries:{label}") == 1:
        raise RuntimeError("the first try fails")
    record(db.session(), None, "test.resilient_job_ran", "test", label)


@jobs.job(queue="default", retries=(600, 600))
def fails_with_backoff(label: str) -> None:
    fails_once_then_succeeds(label)


@jobs.job(queue="default", retries=jobs.NO_RETRY)
def rearms_itself(label: str) -> None:
    raise RuntimeError(f"no retry for {label}")


def ran(label: str) -> int:
    db.session.remove()
    return len(db.session().scalars(select(AuditEvent.id).where(
        AuditEvent.action == "test.resilient_job_ran", AuditEvent.object_id == label)).all())


@pytest.fixture
def unreachable_redis_app(settings):
    from console import create_app

    return create_app(dataclasses.replace(settings, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))


def test_an_enqueue_that_fails_after_commit_keeps_the_commit_and_the_next_callbacks(
        unreachable_redis_app, caplog):
    later: list[str] = []
    with caplog.at_level(logging.ERROR), db.unit_of_work() as s:
        record(s, None, "test.committed", "test", "kept")
        note_ran.enqueue("lost")
        db.after_commit(s, lambda: later.append("ran"))
    assert later == ["ran"]
    db.session.remove()
    assert db.session().scalar(select(AuditEvent.object_id).where(
        AuditEvent.action == "test.committed")) == "kept"
    assert "after commit failed" in caplog.text


def test_a_request_that_enqueues_succeeds_while_redis_is_unreachable(unreachable_redis_app):
    client = unreachable_redis_app.test_client()
    seller, buyer = register(client), register(client)
    listing = live_listing(client, seller, price_paise=250_000)
    response = client.post("/api/v1/orders", headers=buyer["headers"], json={
        "listing_id": listing["id"], "payment_method": "test_upi_ok"})
    assert response.status_code == 201, response.json
    db.session.remove()
    assert db.session().get(Order, response.json["id"]) is not None


def test_every_task_is_retried_with_backoff_unless_it_says_otherwise(app):
    assert note_ran.enqueue_now("x").retries_left == len(jobs.DEFAULT_RETRIES)
    assert rearms_itself.enqueue_now("y").retries_left is None
    with pytest.raises(ValueError):
        jobs.job(retries=(-1,))


def test_a_failed_try_runs_again_and_completes_once(app):
    job = fails_once_then_succeeds.enqueue_now("again")
    jobs.run_pending()   # the retry (interval 0) is queued again at once, in this burst
    assert jobs.connection().get("test:tries:again") == b"2"
    assert ran("again") == 1
    assert job.get_status(refresh=True) == JobStatus.FINISHED


def test_a_failed_try_awaiting_its_retry_shows_in_health_until_it_succeeds(app):
    job = fails_with_backoff.enqueue_now("later")
    jobs.run_pending()
    retrying = jobs.health()["retrying_jobs"]
    assert [(r["id"], r["retries_left"]) for r in retrying] == [(job.id, 1)]
    assert "the first try fails" in retrying[0]["error"]
    assert job.get_status(refresh=True) == JobStatus.SCHEDULED
    queue = jobs.queue("default")             # its backoff has passed: as RQ's scheduler does
    ScheduledJobRegistry(queue=queue).remove(job)
    queue.enqueue_job(job)
    jobs.run_pending()
    assert ran("later") == 1
    assert jobs.health()["retrying_jobs"] == []


def test_the_jobs_page_lists_a_failed_try_awaiting_its_retry(app, client, staff):
    job = fails_with_backoff.enqueue_now("shown")
    jobs.run_pending()
    signed_in(client, staff, "admin")
    page = client.get("/console/jobs/").get_data(as_text=True)
    retrying = page.split('data-testid="retrying-jobs"')[1].split("</table>")[0]
    assert job.id in retrying and "the first try fails" in retrying


def test_a_task_without_retries_fails_for_good(app):
    job = rearms_itself.enqueue_now("z")
    jobs.run_pending()
    assert Job.fetch(job.id, connection=jobs.connection()).get_status() == JobStatus.FAILED
