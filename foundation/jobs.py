"""Background jobs on RQ: one decorator, workload queues, timers and periodic sweeps.

- `@job(queue=...)` registers a task.  `task.enqueue(*ids)` defers the enqueue
  until the surrounding transaction commits, and only accepts plain values
  (ids, strings, numbers): a job loads its rows again.
- Every task runs inside `execute()`, the single wrapper that opens a unit of
  work, stamps the RQ job id into the log, and commits or rolls back.
- RQ delivers at least once, so tasks re-check state before acting.  Because they do,
  every task is retried with backoff (`retries=`, `DEFAULT_RETRIES` unless it says
  otherwise): after an exception, after its work horse was killed (OOM, deploy,
  SIGKILL) and when RQ's registry cleanup finds it abandoned by a dead worker, RQ
  enqueues it again while it has retries left.  A task that re-arms itself (the
  outbox's delivery) says `retries=NO_RETRY`, so it is never retried twice over.  A
  failed try awaiting its retry is not in RQ's failed registry: `health()` lists it
  under `retrying_jobs`, with its error, until it succeeds or fails for good.
- An enqueue after commit that fails (Redis down) is logged and never fails the unit
  of work that committed: whatever the job would have done must also be reachable by
  a sweep.
- Timers use `enqueue_at` with a job id derived from (object, state, deadline).
- Periodic tasks, put on the schedule with `schedule(task, every)` by the composition
  root (`console.composition`), are enqueued by a beat that runs inside every worker; a
  Redis SET NX per time slot keeps many workers from doubling them.
- `named("package.tasks.task")` is a task used from a module that its task module
  imports (a service arming a timer the task then works): it is looked up when used.
"""
from __future__ import annotations

import contextvars
import importlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from rq import Queue, Retry, SimpleWorker, Worker, get_current_job
from rq.exceptions import StopRequested
from rq.job import Job, JobStatus
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.scheduler import RQScheduler

from foundation import clock, db
from foundation.redis_conn import describe

# A worker's priority order: timers first; a stored photo's signing ("photos") ahead of
# the slower vision work (risk scoring, re-index, case comparisons, training) it would else
# wait behind, and after "default", whose short money and trust jobs a burst of uploads'
# batches must not starve.  Production gives "photos,vision" workers of their own.
QUEUES = ("scheduled", "default", "photos", "vision")
log = logging.getLogger(__name__)
current_job_id: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="-")

# Seconds before each retry.  The first retry comes quickly (a killed horse, a blip);
# the later ones wait out a restart of the database or Redis.
DEFAULT_RETRIES: tuple[int, ...] = (10, 60, 300)
NO_RETRY: tuple[int, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    name: str
    queue: str
    timeout: int | None
    fn: Callable[..., Any]
    retries: tuple[int, ...] = DEFAULT_RETRIES   # seconds before each retry

    def retry(self) -> Retry | None:
        if not self.retries:
            return None
        return Retry(max=len(self.retries), interval=list(self.retries))


@dataclass(frozen=True)
class PeriodicSpec:
    task: Task
    every: timedelta


_tasks: dict[str, TaskSpec] = {}
_periodic: dict[str, PeriodicSpec] = {}
_state: dict[str, Any] = {"redis": None, "blocking_redis": None, "timeout": 600}


class JobArgumentError(TypeError):
    """Jobs take ids and plain values; an ORM object or a structure is a bug."""


def init(connection: redis.Redis, default_timeout: int = 600,
         blocking_connection: redis.Redis | None = None) -> None:
    """`connection` serves enqueues and status reads; `blocking_connection` (a client
    without a read timeout, see foundation.redis_conn) serves a worker's dequeue."""
    _state["redis"] = connection
    _state["blocking_redis"] = blocking_connection or connection
    _state["timeout"] = default_timeout


def connection() -> redis.Redis:
    if _state["redis"] is None:
        raise RuntimeError("jobs.init() has not been called (create_app does it)")
    return _state["redis"]


def queue(name: str) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUES)}")
    return Queue(name, connection=connection())


class Task:
    """A registered job function; call it directly to run inline (tests, CLI)."""

    def __init__(self, spec: TaskSpec):
        self.spec = spec

    def __call__(self, *args, **kwargs):
        return self.spec.fn(*args, **kwargs)

    def enqueue(self, *args, job_id: str | None = None, at: datetime | None = None,
                **kwargs) -> None:
        """Enqueue once the surrounding unit of work commits; dropped if it rolls back.

        Outside a unit of work (scripts, tests) call `enqueue_now` instead.
        """
        _check_plain(args, kwargs)
        s = db.session()
        if not s.in_transaction():
            s.begin()  # so that the coming commit (even of no rows) releases the job
        db.after_commit(s, lambda: self.enqueue_after_commit(*args, job_id=job_id, at=at,
                                                            **kwargs))

    def enqueue_after_commit(self, *args, **kwargs) -> Job | None:
        """`enqueue_now`, for a transaction that has already committed: a Redis error is
        logged, never raised, so the request or job whose data is durable succeeds."""
        try:
            return self.enqueue_now(*args, **kwargs)
        except redis.RedisError:
            log.exception("enqueue of %s%r after commit failed; its sweep will catch it",
                          self.spec.name, args)
            return None

    def enqueue_now(self, *args, job_id: str | None = None, at: datetime | None = None,
                    **kwargs) -> Job | None:
        q = queue(self.spec.queue)
        if job_id and _is_pending(job_id):
            return None  # the same timer or batch is already waiting
        options = dict(job_id=job_id, job_timeout=self.spec.timeout or _state["timeout"],
                       description=self.spec.name, result_ttl=3600, failure_ttl=7 * 86400,
                       retry=self.spec.retry())
        call_args = (self.spec.name, list(args), kwargs)
        if at is not None:
            return q.enqueue_at(at, execute, *call_args, **options)
        return q.enqueue(execute, *call_args, **options)


def timer_id(purpose: str, object_type: str, object_id: int | str,
             deadline: datetime) -> str:
    """The job id of a timer: one per (object, purpose, deadline), so re-arming is a no-op."""
    raw = f"timer-{purpose}-{object_type}-{object_id}-{int(deadline.timestamp())}"
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)


def job(queue: str = "default", timeout: int | None = None,
        retries: tuple[int, ...] = DEFAULT_RETRIES) -> Callable[[Callable], Task]:
    """Register a task.  `retries`: the seconds RQ waits before each new try after a
    failure, a killed work horse or an abandoned job; `NO_RETRY` for a task that
    re-arms itself."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    if any(type(seconds) is not int or seconds < 0 for seconds in retries):
        raise ValueError("retries are whole seconds, 0 or more")

    def register(fn: Callable) -> Task:
        name = f"{fn.__module__}.{fn.__name__}"
        spec = TaskSpec(name=name, queue=queue, timeout=timeout, fn=fn,
                        retries=tuple(retries))
        _tasks[name] = spec
        return Task(spec)

    return register


def schedule(task: Task, every: timedelta) -> None:
    """Have the beat enqueue `task` (which takes no arguments) once per `every`."""
    _periodic[task.spec.name] = PeriodicSpec(task=task, every=every)


class TaskByName:
    """A registered task, found by its name when it is used.

    Services arm timers whose task module imports those same services; naming the task
    instead of importing it keeps the import graph one-way.  The composition root loads
    every task module, so the name resolves in the app, the workers and the scripts.
    """

    def __init__(self, name: str):
        self.name = name

    def task(self) -> Task:
        return Task(_resolve(self.name))

    def enqueue(self, *args, **kwargs) -> None:
        self.task().enqueue(*args, **kwargs)

    def enqueue_now(self, *args, **kwargs) -> Job | None:
        return self.task().enqueue_now(*args, **kwargs)


def named(name: str) -> TaskByName:
    return TaskByName(name)


def registered_tasks() -> dict[str, TaskSpec]:
    return dict(_tasks)


def execute(task_name: str, args: list, kwargs: dict) -> Any:
    """The one wrapper every job runs in: a fresh unit of work, the job id in the log."""
    spec = _resolve(task_name)
    rq_job = get_current_job()
    token = current_job_id.set(rq_job.id if rq_job else "inline")
    db.reset_after_fork()
    try:
        with db.unit_of_work():
            log.info("job %s started", task_name)
            result = spec.fn(*args, **kwargs)
        log.info("job %s finished", task_name)
        _no_longer_retrying(rq_job)
        return result
    except Exception as error:
        _note_failed_try(rq_job, error)
        raise
    finally:
        current_job_id.reset(token)


RETRYING = "marketplace:jobs:retrying"   # sorted set: job id -> when its last try failed


def _note_failed_try(rq_job: Job | None, error: Exception) -> None:
    """A failed try that RQ will retry leaves no trace in the failed registry: keep the
    job, with its error, where `health()` (the console, the tests) shows it until it
    succeeds or fails for good."""
    if rq_job is None:
        return
    try:
        if rq_job.retries_left:
            rq_job.meta["last_error"] = f"{type(error).__name__}: {error}"[:500]
            rq_job.save_meta()
            rq_job.connection.zadd(RETRYING, {rq_job.id: time.time()})
        else:
            rq_job.connection.zrem(RETRYING, rq_job.id)   # the failed registry has it now
    except redis.RedisError:
        log.exception("could not note the failed try of job %s", rq_job.id)


def _no_longer_retrying(rq_job: Job | None) -> None:
    if rq_job is not None and rq_job.retries_left is not None:
        try:
            rq_job.connection.zrem(RETRYING, rq_job.id)
        except redis.RedisError:
            log.exception("could not clear the retry mark of job %s", rq_job.id)


def _resolve(task_name: str) -> TaskSpec:
    """The application's tasks are all registered by the composition root; a task of a
    module it does not list (a test's, a script's) is loaded by its module's name."""
    if task_name not in _tasks:
        importlib.import_module(task_name.rsplit(".", 1)[0])
    if task_name not in _tasks:
        raise LookupError(f"no task {task_name!r}: the composition root "
                          "(console.composition.TASK_MODULES) lists every task module")
    return _tasks[task_name]


def _check_plain(args: tuple, kwargs: dict) -> None:
    for value in (*args, *kwargs.values()):
        if not _is_plain(value):
            raise JobArgumentError(
                f"job arguments must be ids or plain values, got {type(value).__name__}")


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return False


def _is_pending(job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=connection()).get_status()
    except Exception:  # noqa: BLE001 - rq raises NoSuchJobError or a decode error
        return False
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED,
                      JobStatus.STARTED)


def discard_waiting(job_ids: Iterable[str]) -> int:
    """Delete those of these jobs that still wait in their queue: work a batch has just
    done.  A job a worker has already taken runs and finds nothing to do; how many were
    deleted."""
    discarded = 0
    for job_id in job_ids:
        try:
            job = Job.fetch(job_id, connection=connection())
        except Exception:  # noqa: BLE001 - rq raises NoSuchJobError or a decode error
            continue
        if job.get_status() == JobStatus.QUEUED:
            job.delete()
            discarded += 1
    return discarded


# --- periodic beat -------------------------------------------------------------------

def beat_once(at: datetime | None = None) -> list[str]:
    """Enqueue each periodic task whose current slot has not been claimed yet."""
    at = at or clock.now()
    fired = []
    for name, spec in _periodic.items():
        seconds = int(spec.every.total_seconds())
        slot = int(at.timestamp()) // seconds
        key = f"marketplace:beat:{name}:{slot}"
        if connection().set(key, os.getpid(), nx=True, ex=seconds * 2):
            spec.task.enqueue_now()
            fired.append(name)
    return fired


class Beat:
    """The periodic beat's thread in a worker: it enqueues due sweeps until stopped."""

    def __init__(self, interval_seconds: int):
        self._interval = interval_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="periodic-beat", daemon=True)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                beat_once()
            except Exception:  # noqa: BLE001 - a lost beat is caught by the next one
                log.exception("periodic beat failed")
            self._stopped.wait(self._interval)

    def start(self) -> Beat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)


def start_beat(interval_seconds: int) -> Beat:
    return Beat(interval_seconds).start()


def periodic_tasks() -> dict[str, PeriodicSpec]:
    return dict(_periodic)


# --- workers ---------------------------------------------------------------------------

_warmups: list[tuple[frozenset[str], Callable[[], None]]] = []
_horse_setups: list[Callable[[], None]] = []


def warm_in_worker(*queues: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a warm-up that a worker serving any of `queues` runs before it forks its
    first work horse, and again after each job.

    RQ forks a fresh horse per job, so whatever a job loads (torch, a model's weights, an
    index) is loaded again by every job unless the parent already holds it: a horse
    inherits the parent's memory.  What horses change (the duplicate index they save) makes
    the parent's copy stale, so the parent runs each warm-up again after every job, while
    the next one waits no longer than that: a warm-up must be cheap when already warm.

    A parent that has run a torch or FAISS kernel on an OpenMP thread pool hands its horses
    a pool whose threads do not exist in them, and they hang in their first parallel
    kernel: a warm-up that runs kernels does it on one thread (no pool is started) and
    gives each horse its threads back with `in_work_horse`.
    """
    unknown = [name for name in queues if name not in QUEUES]
    if not queues or unknown:
        raise ValueError(f"warm-ups name known queues, not {unknown or 'none'}")

    def register(fn: Callable[[], None]) -> Callable[[], None]:
        _warmups.append((frozenset(queues), fn))
        return fn

    return register


def registered_warm_ups() -> dict[str, frozenset[str]]:
    """Each warm-up's name and the queues whose workers run it."""
    return {fn.__name__: queues for queues, fn in _warmups}


def in_work_horse(fn: Callable[[], None]) -> Callable[[], None]:
    """Register a setup each forked work horse runs before its job (what a warm-up left
    set for the parent's sake alone, such as its thread counts)."""
    _horse_setups.append(fn)
    return fn


def warm_up(queue_names: list[str], *, again: bool = False) -> list[str]:
    """Run the warm-ups of these queues; a failing one is logged, never fatal: its jobs
    will load what they need themselves.  `again`: between jobs, where only a slow one is
    worth a line in the log."""
    done = []
    for queues, fn in _warmups:
        if queues.isdisjoint(queue_names):
            continue
        started = time.perf_counter()
        try:
            fn()
        except StopRequested:
            # RQ's SIGTERM handler raises it wherever an idle worker is: the warm shutdown
            # must go on, not be logged as a failed warm-up and forgotten.
            raise
        except Exception:
            log.exception("warm-up %s failed; its jobs will load on their own", fn.__name__)
            continue
        seconds = time.perf_counter() - started
        if not again or seconds >= 0.5:
            log.info("warmed %s in %.2fs", fn.__name__, seconds)
        done.append(fn.__name__)
    return done


def set_up_work_horse() -> None:
    for fn in _horse_setups:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the job still runs, as a cold process would
            log.exception("work horse setup %s failed", fn.__name__)


class WarmWorker(Worker):
    """RQ's forking worker that keeps its queues' warm-ups warm between jobs and sets up
    each work horse it forks."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        super().execute_job(job, queue)
        warm_up(self.queue_names(), again=True)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        set_up_work_horse()
        super().main_work_horse(job, queue)


def run_worker(queue_names: list[str] | None = None, burst: bool = False,
               beat_seconds: int = 15) -> None:
    """A production worker: forks a work horse per job, runs RQ's scheduler and the beat."""
    names = queue_names or list(QUEUES)
    warm_up(names)
    beat = start_beat(beat_seconds) if not burst else None
    blocking = _state["blocking_redis"]
    worker = WarmWorker([Queue(n, connection=blocking) for n in names], connection=blocking)
    try:
        worker.work(burst=burst, with_scheduler=True)
    finally:
        if beat is not None:
            beat.stop()  # no beat while the process exits (and may stop the embedded Redis)


def run_pending(queue_names: list[str] | None = None) -> int:
    """Process what is queued now (and timers already due), in this process.

    For tests and `flask run-pending-jobs`; production workers fork and schedule.
    """
    names = queue_names or list(QUEUES)
    _enqueue_due_timers(names)
    queues = [queue(n) for n in names]
    waiting = sum(q.count for q in queues)
    # A worker raises its client's read timeout above its dequeue timeout: give it the
    # blocking client, never the request client the app shares.
    SimpleWorker(queues, connection=_state["blocking_redis"]).work(
        burst=True, with_scheduler=False, logging_level="WARNING")
    return waiting - sum(q.count for q in queues)


def _enqueue_due_timers(names: list[str]) -> None:
    scheduler = RQScheduler(names, connection=connection())
    if scheduler.acquire_locks():
        try:
            scheduler.enqueue_scheduled_jobs()
        finally:
            scheduler.release_locks()


# --- health ----------------------------------------------------------------------------

def health() -> dict:
    """Queues, workers and recent failures, for `flask rq-status` and the console."""
    conn = connection()
    queues = []
    failed_jobs = []
    for name in QUEUES:
        q = queue(name)
        failed = FailedJobRegistry(queue=q)
        queues.append({
            "name": name,
            "queued": q.count,
            "started": StartedJobRegistry(queue=q).count,
            "scheduled": ScheduledJobRegistry(queue=q).count,
            "deferred": DeferredJobRegistry(queue=q).count,
            "failed": failed.count,
        })
        for job_id in failed.get_job_ids(0, 19, desc=True):
            failed_jobs.append(_failed_job_summary(job_id, name, conn))
    workers = [{
        "name": w.name,
        "state": str(w.get_state()),
        "queues": w.queue_names(),
        "current_job": w.get_current_job_id(),
        "last_heartbeat": w.last_heartbeat.isoformat() if w.last_heartbeat else None,
        "successful": w.successful_job_count,
        "failed": w.failed_job_count,
    } for w in Worker.all(connection=conn)]
    return {"redis": describe(conn), "queues": queues, "workers": workers,
            "failed_jobs": failed_jobs, "retrying_jobs": retrying_jobs(conn)}


def retrying_jobs(conn: redis.Redis, limit: int = 20) -> list[dict]:
    """Jobs whose last try failed and that RQ will try again, the latest first."""
    found = []
    for raw_id in conn.zrevrange(RETRYING, 0, limit - 1):
        job_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
        try:
            rq_job = Job.fetch(job_id, connection=conn)
        except Exception:  # noqa: BLE001 - expired since
            conn.zrem(RETRYING, job_id)
            continue
        found.append({"id": job_id, "queue": rq_job.origin,
                      "task": rq_job.args[0] if rq_job.args else rq_job.func_name,
                      "error": rq_job.meta.get("last_error", ""),
                      "retries_left": rq_job.retries_left})
    return found


def _failed_job_summary(job_id: str, queue_name: str, conn: redis.Redis) -> dict:
    try:
        rq_job = Job.fetch(job_id, connection=conn)
    except Exception:  # noqa: BLE001 - expired between listing and fetching
        return {"id": job_id, "queue": queue_name, "task": "?", "error": "expired",
                "ended_at": None}
    task = rq_job.args[0] if rq_job.args else rq_job.func_name
    error = (rq_job.latest_result().exc_string if rq_job.latest_result() else "") or ""
    return {"id": job_id, "queue": queue_name, "task": task,
            "error": error.strip().splitlines()[-1] if error.strip() else "",
            "ended_at": rq_job.ended_at.isoformat() if rq_job.ended_at else None}


def requeue_failed(job_id: str) -> None:
    for name in QUEUES:
        registry = FailedJobRegistry(queue=queue(name))
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            return
    raise LookupError(job_id)
