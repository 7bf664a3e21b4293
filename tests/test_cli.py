"""Operator commands, run through Flask's CLI runner and as real processes."""
import subprocess
import sys

from sqlalchemy import select

from foundation import db, jobs
from foundation.audit.models import AuditEvent
from foundation.config import PROJECT_ROOT
from foundation.staff.models import StaffUser
from tests.builders.jobs import note_in_audit
from tests.builders.staff import STRONG_PASSWORD
from tests.helpers import worker_env


def test_create_staff_with_password_option(app):
    result = app.test_cli_runner().invoke(args=[
        "create-staff", "Ops@Staff.test", "--role", "support_lead", "--password",
        STRONG_PASSWORD, "--name", "Ops Person"])
    assert result.exit_code == 0, result.output
    assert "created staff" in result.output
    member = db.session().scalar(select(StaffUser).where(StaffUser.email == "ops@staff.test"))
    assert (member.role, member.display_name) == ("support_lead", "Ops Person")


def test_create_staff_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-staff", "prompted@staff.test", "--role", "admin"],
        input=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert db.session().scalar(select(StaffUser).where(
        StaffUser.email == "prompted@staff.test")) is not None


def test_create_staff_refuses_bad_input_clearly(app):
    runner = app.test_cli_runner()
    bad_role = runner.invoke(args=["create-staff", "a@staff.test", "--role", "king",
                                   "--password", STRONG_PASSWORD])
    assert bad_role.exit_code != 0 and "king" in bad_role.output
    short = runner.invoke(args=["create-staff", "a@staff.test", "--role", "admin",
                                "--password", "short"])
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    runner.invoke(args=["create-staff", "a@staff.test", "--role", "admin", "--password",
                        STRONG_PASSWORD])
    again = runner.invoke(args=["create-staff", "A@staff.test", "--role", "admin",
                                "--password", STRONG_PASSWORD])
    assert again.exit_code != 0 and "exists" in again.output
    assert len(db.session().scalars(select(StaffUser)).all()) == 1


def test_db_check_and_rq_status(app):
    runner = app.test_cli_runner()
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0 and "matches" in check.output
    status = runner.invoke(args=["rq-status"])
    assert status.exit_code == 0
    for name in jobs.QUEUES:
        assert name in status.output


def test_a_forking_worker_process_runs_jobs_against_the_same_database(app, settings):
    from foundation.maintenance import purge_old_sessions

    purge_old_sessions.enqueue_now()
    note_in_audit.enqueue_now("from-a-real-worker")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                             "--burst"], cwd=PROJECT_ROOT, env=worker_env(app, settings),
                            capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    db.session.remove()
    labels = db.session().scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "test.job_ran")).all()
    assert labels == ["from-a-real-worker"]
    assert jobs.queue("default").count == 0 and jobs.queue("scheduled").count == 0

