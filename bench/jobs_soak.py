"""Do 10,000 short jobs through 4 real `flask worker` processes all complete, once each?

    .venv/bin/python -m bench.jobs_soak [--jobs 10000] [--workers 4] [--json out.json]

Starts the workers as an operator would (separate OS processes on one instance folder,
each forking a work horse per job), enqueues the jobs from this process through
`foundation.jobs`, and waits until every job has completed or nothing has moved for a
while.  Each job records, in Redis, that it ran and how long it waited in the queue.
Redis is REDIS_URL or the instance's embedded server; the database is DATABASE_URL or a
fresh SQLite file in the instance folder (the jobs open a unit of work but write nothing).

Reported: jobs enqueued, completed (distinct), completed more than once, failed (in RQ's
failed registry), reported abandoned (failed with AbandonedJobError, or named abandoned
in a worker's log), lost (enqueued, never completed), throughput, and the queue latency
(enqueue to start) p50/p99.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rq import Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from bench.common import percentiles, write_json
from bench.soak_tasks import DONE, FINISHED_AT, LATENCY, soak_job
from foundation import jobs, redis_conn
from foundation.config import PROJECT_ROOT
from foundation.migrations import upgrade

STALL_SECONDS = 120


def worker_env(instance: Path, database_url: str, redis_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_PATH=str(instance), DATABASE_URL=database_url,
               SECRET_KEY="jobs-soak-" + "k" * 40, APP_ENV="development",
               PYTHONUNBUFFERED="1")
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def start_workers(count: int, instance: Path, env: dict[str, str]) -> list[subprocess.Popen]:
    workers = []
    for i in range(count):
        log = (instance / f"worker-{i}.log").open("a")
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues", "default"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True))
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def wait_for_workers(count: int, workers: list[subprocess.Popen], seconds: float = 300) -> None:
    """Until every worker has registered with Redis (imported the app, ready to dequeue),
    so that the figures measure the jobs, not the workers' start."""
    deadline = time.monotonic() + seconds
    while len(Worker.all(connection=jobs.connection())) < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise RuntimeError("the workers did not start; see worker-*.log")
        time.sleep(0.2)


def wait_for_completion(total: int, workers: list[subprocess.Popen]) -> None:
    r = jobs.connection()
    last, moved_at = -1, time.monotonic()
    while True:
        done = r.hlen(DONE)
        if done >= total:
            return
        if done != last:
            last, moved_at = done, time.monotonic()
        elif time.monotonic() - moved_at > STALL_SECONDS:
            return
        if all(worker.poll() is not None for worker in workers):
            return
        if done != last or int(time.monotonic()) % 10 == 0:
            sys.stderr.write(f"\rcompleted {done}/{total}")
            sys.stderr.flush()
        time.sleep(0.5)


def abandoned_reports(instance: Path) -> tuple[int, int]:
    """(failed jobs whose error is AbandonedJobError, log lines that say abandoned)."""
    registry = FailedJobRegistry(queue=jobs.queue("default"))
    failed_abandoned = 0
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=jobs.connection())
        result = job.latest_result()
        if result is not None and "Abandoned" in (result.exc_string or ""):
            failed_abandoned += 1
    in_logs = sum(log.read_text(errors="replace").count("AbandonedJobError")
                  for log in instance.glob("worker-*.log"))
    return failed_abandoned, in_logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bench-jobs-soak-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'soak.db'}"
    configured_redis = os.environ.get("REDIS_URL", "")
    upgrade(database_url)
    redis_url = configured_redis or redis_conn.embedded_url(str(instance))
    jobs.init(redis_conn.client(redis_url), 600,
              blocking_connection=redis_conn.client(redis_url, blocking=True))
    r = jobs.connection()
    r.delete(DONE, LATENCY, FINISHED_AT)
    jobs.queue("default").empty()

    workers = start_workers(args.workers, instance,
                            worker_env(instance, database_url, configured_redis))
    try:
        wait_for_workers(args.workers, workers)
        started = time.time()
        for number in range(args.jobs):
            soak_job.enqueue_now(number, time.time())
        enqueued_in = time.time() - started
        wait_for_completion(args.jobs, workers)
        sys.stderr.write("\n")
        runs = {int(k): int(v) for k, v in r.hgetall(DONE).items()}
        finished_at = float(r.get(FINISHED_AT) or time.time())
        latencies = [float(x) for x in r.lrange(LATENCY, 0, -1)]
        failed = FailedJobRegistry(queue=jobs.queue("default")).count
        still_started = StartedJobRegistry(queue=jobs.queue("default")).count
        failed_abandoned, logged_abandoned = abandoned_reports(instance)
    finally:
        stop_workers(workers)

    elapsed = finished_at - started
    result = {
        "question": "do 10,000 short jobs through 4 flask workers all complete once?",
        "workers": args.workers,
        "redis": "configured" if configured_redis else "embedded",
        "database": database_url.split(":", 1)[0],
        "enqueued": args.jobs,
        "completed": len(runs),
        "completed_more_than_once": sum(1 for n in runs.values() if n > 1),
        "failed": failed,
        "reported_abandoned": failed_abandoned + logged_abandoned,
        "still_started": still_started,
        "lost": args.jobs - len(runs),
        "enqueue_seconds": round(enqueued_in, 2),
        "seconds": round(elapsed, 2),
        "throughput_jobs_per_s": round(len(runs) / elapsed, 1) if elapsed > 0 else None,
        "queue_latency_ms": percentiles(latencies) if latencies else None,
    }
    if not configured_redis:
        redis_conn.release_embedded(str(instance))
    write_json(args.json, result)
    print(f"\n{result['completed']}/{result['enqueued']} completed, "
          f"{result['lost']} lost, {result['reported_abandoned']} abandoned, "
          f"{result['throughput_jobs_per_s']} jobs/s, queue latency p50 "
          f"{result['queue_latency_ms']['p50'] if latencies else '-'} ms, p99 "
          f"{result['queue_latency_ms']['p99'] if latencies else '-'} ms")


if __name__ == "__main__":
    main()
