"""The job of bench/jobs_soak.py, in a module of its own: the workers find a task by its
module's name, which a script run with `python -m` does not have (it is `__main__`)."""
from __future__ import annotations

import time

from foundation import jobs

DONE = "bench:soak:done"            # hash: job number -> times it ran
LATENCY = "bench:soak:latency_ms"   # list: enqueue-to-start of each run
FINISHED_AT = "bench:soak:finished_at"


@jobs.job(queue="default")
def soak_job(number: int, enqueued_at: float) -> None:
    started = time.time()
    r = jobs.connection()
    with r.pipeline() as pipe:
        pipe.hincrby(DONE, str(number), 1)
        pipe.rpush(LATENCY, round((started - enqueued_at) * 1000, 2))
        pipe.set(FINISHED_AT, time.time())
        pipe.execute()
