"""A real `flask worker` whose work horse, or whole process, dies in the middle of a job:
the job runs again and completes once.

RQ 3.0 retries a job that has retries left both when a worker sees its horse die
(`handle_job_failure`) and when a later worker's registry cleanup finds a job abandoned
in the StartedJobRegistry by a worker that died with it (`StartedJobRegistry.cleanup`);
every task is enqueued with retries (foundation.jobs.DEFAULT_RETRIES), so both paths
lead to a new try.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from foundation import db, jobs
from foundation.audit.models import AuditEvent
from foundation.audit.services import record
from foundation.config import PROJECT_ROOT
from tests.deployment import Deployment, flask_command

PID_KEY = "test:killed:pid:{}"
TRIES_KEY = "test:killed:tries:{}"


@jobs.job(queue="default", retries=(0, 0))
def hangs_on_its_first_try(label: str) -> None:
    """The first try tells the test its process id and waits to be killed."""
    r = jobs.connection()
    if r.incr(TRIES_KEY.format(label)) == 1:
        r.set(PID_KEY.format(label), os.getpid())
        time.sleep(300)
    record(db.session(), None, "test.killed_job_completed", "test", label)


@pytest.fixture
def worker_deployment(settings, tmp_path):
    """`flask worker` processes on the test's own database and Redis."""
    deployment = Deployment(instance=tmp_path / "deployment", database_url=settings.DATABASE_URL,
                            redis_url=settings.REDIS_URL)
    deployment.instance.mkdir()
    yield deployment
    deployment.stop()


def start_worker(deployment: Deployment, name: str) -> subprocess.Popen:
    log = deployment.log_path(name).open("a")
    deployment.processes[name] = subprocess.Popen(
        flask_command("worker", "--queues", "default"), cwd=PROJECT_ROOT, env=deployment.env,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return deployment.processes[name]


def horse_pid(deployment: Deployment, label: str) -> int:
    raw = deployment.wait_until(lambda: jobs.connection().get(PID_KEY.format(label)), 120,
                                "the job's first try to start")
    return int(raw)


def completions(label: str) -> int:
    db.session.remove()
    return len(db.session().scalars(select(AuditEvent.id).where(
        AuditEvent.action == "test.killed_job_completed",
        AuditEvent.object_id == label)).all())


def tries(label: str) -> int:
    return int(jobs.connection().get(TRIES_KEY.format(label)) or 0)


def recorded_finished(deployment, job) -> None:
    """The job's work commits before RQ records it finished in Redis: wait for that too."""
    deployment.wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 60,
                          "RQ to record the job finished")


def test_a_job_whose_work_horse_is_killed_runs_again_and_completes_once(app,
                                                                        worker_deployment):
    start_worker(worker_deployment, "worker")
    job = hangs_on_its_first_try.enqueue_now("horse")
    os.kill(horse_pid(worker_deployment, "horse"), signal.SIGKILL)
    worker_deployment.wait_until(lambda: completions("horse") == 1, 120,
                                 "the retried job to complete")
    assert tries("horse") == 2
    recorded_finished(worker_deployment, job)
    assert completions("horse") == 1


def test_a_job_abandoned_by_a_killed_worker_runs_again_and_completes_once(app,
                                                                         worker_deployment):
    worker = start_worker(worker_deployment, "first-worker")
    job = hangs_on_its_first_try.enqueue_now("abandoned")
    horse_pid(worker_deployment, "abandoned")
    os.killpg(worker.pid, signal.SIGKILL)   # the worker and its horse, with no goodbye
    worker.wait()
    del worker_deployment.processes["first-worker"]
    assert Job.fetch(job.id, connection=jobs.connection()).get_status() == JobStatus.STARTED
    # What the next worker's registry maintenance does once the dead worker's heartbeat
    # has lapsed (about a minute and a half): the registry entry has expired by then.
    StartedJobRegistry(queue=jobs.queue("default")).cleanup(timestamp=time.time() + 3600)
    start_worker(worker_deployment, "second-worker")
    worker_deployment.wait_until(lambda: completions("abandoned") == 1, 120,
                                 "the abandoned job to run again")
    assert tries("abandoned") == 2
    recorded_finished(worker_deployment, job)
