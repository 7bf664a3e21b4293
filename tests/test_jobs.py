"""Background jobs on a real Redis with real RQ workers (in-process SimpleWorker)."""
from datetime import timedelta

import pytest
from rq.exceptions import StopRequested
from sqlalchemy import select

from foundation import clock, db, jobs
from foundation.audit.models import AuditEvent
from foundation.audit.services import record
from foundation.staff.models import StaffUser
from tests.builders.jobs import note_in_audit
from tests.helpers import page_token, sign_in


@jobs.job(queue="vision", retries=jobs.NO_RETRY)
def always_fails(label: str) -> None:
    raise RuntimeError(f"boom {label}")


@jobs.job(queue="scheduled")
def sweep_for_tests() -> None:
    record(db.session(), None, "test.sweep", "test", None)


jobs.schedule(sweep_for_tests, every=timedelta(minutes=5))


def audit_labels(action: str) -> list[str]:
    db.session.remove()
    return db.session().scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == action)).all()


def test_enqueue_waits_for_commit_and_the_job_runs_in_its_own_unit_of_work(app):
    with db.unit_of_work():
        note_in_audit.enqueue("after-commit")
        assert jobs.queue("default").count == 0  # nothing leaves before the commit
    assert jobs.queue("default").count == 1
    assert jobs.run_pending() == 1
    assert audit_labels("test.job_ran") == ["after-commit"]


def test_a_rolled_back_transaction_enqueues_nothing(app):
    with pytest.raises(RuntimeError):
        with db.unit_of_work():
            note_in_audit.enqueue("never")
            raise RuntimeError("request failed")
    assert jobs.queue("default").count == 0
    assert jobs.run_pending() == 0


def test_jobs_take_ids_not_objects(app, staff):
    staff_id, _, _ = staff("admin")
    member = db.session().get(StaffUser, staff_id)
    with pytest.raises(jobs.JobArgumentError):
        note_in_audit.enqueue(member)
    with pytest.raises(jobs.JobArgumentError):
        note_in_audit.enqueue({"id": 1})


def test_timers_keyed_on_object_and_deadline_are_enqueued_once(app):
    due = clock.now() - timedelta(seconds=1)  # already due: the scheduler moves it now
    for _ in range(3):
        note_in_audit.enqueue_now("timer", job_id=jobs.timer_id("expire", "offer", 1, due),
                                  at=due)
    assert jobs.run_pending() == 1
    assert audit_labels("test.job_ran") == ["timer"]


def test_periodic_beat_fires_once_per_slot_across_workers(app):
    moment = clock.now()
    assert "tests.test_jobs.sweep_for_tests" in jobs.beat_once(moment)
    assert "tests.test_jobs.sweep_for_tests" not in jobs.beat_once(moment)  # another worker
    assert "tests.test_jobs.sweep_for_tests" in jobs.beat_once(moment + timedelta(minutes=5))
    jobs.run_pending()
    assert len(audit_labels("test.sweep")) == 2


def test_failures_show_in_health_and_can_be_requeued_from_the_console(app, client, staff):
    always_fails.enqueue_now("x")
    jobs.run_pending()
    health = jobs.health()
    vision = next(q for q in health["queues"] if q["name"] == "vision")
    assert vision["failed"] == 1
    failed = health["failed_jobs"][0]
    assert failed["task"] == "tests.test_jobs.always_fails"
    assert "boom x" in failed["error"]

    _, email, _ = staff("admin")
    sign_in(client, email)
    page = client.get("/console/jobs/")
    assert page.status_code == 200
    assert b"<svg" in page.data and b"boom x" in page.data
    response = client.post(f"/console/jobs/failed/{failed['id']}/requeue",
                           data={"csrf_token": page_token(client, "/console/jobs/")})
    assert response.status_code == 302
    assert jobs.queue("vision").count == 1
    assert audit_labels("jobs.requeue") == [failed["id"]]


def test_jobs_page_needs_the_jobs_permission(client, staff):
    _, email, _ = staff("support_agent")
    sign_in(client, email)
    assert client.get("/console/jobs/").status_code == 403


def test_fraud_analysts_see_jobs_but_cannot_requeue(client, staff):
    always_fails.enqueue_now("y")
    jobs.run_pending()
    job_id = jobs.health()["failed_jobs"][0]["id"]
    _, email, _ = staff("fraud_analyst")
    sign_in(client, email)
    token = page_token(client, "/console/account/")
    assert client.get("/console/jobs/").status_code == 200
    assert client.post(f"/console/jobs/failed/{job_id}/requeue",
                       data={"csrf_token": token}).status_code == 403
    assert jobs.queue("vision").count == 0


@pytest.fixture
def warm_ups_of_this_test():
    """Only the test's own warm-ups registered while it runs (the real ones would run the
    image model in this process), the registry put back after it."""
    before = list(jobs._warmups)
    jobs._warmups.clear()
    yield
    jobs._warmups[:] = before


def test_a_failing_warm_up_is_logged_and_the_others_still_run(app, warm_ups_of_this_test):
    ran = []

    @jobs.warm_in_worker("photos")
    def broken() -> None:
        raise RuntimeError("no index on disk")

    @jobs.warm_in_worker("photos")
    def working() -> None:
        ran.append("working")

    assert jobs.warm_up(["photos"]) == ["working"]
    assert ran == ["working"]


def test_a_shutdown_requested_during_a_warm_up_is_not_swallowed(app, warm_ups_of_this_test):
    # RQ's SIGTERM handler raises StopRequested wherever an idle worker is, the warm-up
    # between jobs included: the worker must stop, not run on ignoring the signal.
    @jobs.warm_in_worker("photos")
    def interrupted() -> None:
        raise StopRequested()

    with pytest.raises(StopRequested):
        jobs.warm_up(["photos"], again=True)
