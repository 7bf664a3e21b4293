"""What a vision worker holds before it forks work horses, so that a horse signs a photo
without first loading anything (vision.tasks registers these with foundation.jobs):

    hold_model()            # in the worker: torch and FAISS on one thread, the model run once
    hold_duplicate_index()  # in the worker: the saved index read, caught up after each job
    set_job_threads()       # in each horse: VISION_WORKER_THREADS for torch, FAISS, OpenCV

A horse inherits the worker's memory copy-on-write: the model's weights and the index
cost it nothing.  The worker runs kernels (the model's first run, FAISS adds while it
catches the index up) on one thread only: OpenMP then starts no thread pool.  A worker
whose pool had started would hand its horses one whose threads do not exist in them, and
they would hang in their first parallel kernel; a horse given more than one thread starts
its own pool.  torch and FAISS each bring their own OpenMP runtime, hence both.

The index the worker holds goes stale as horses (its own and other workers') save photos;
a horse catches it up under the index lock before using it (vision.index_store), so it
never misses a photo, and the worker catches up its own copy after each job, so the next
horse has little or nothing to replay.
"""
from __future__ import annotations

import faiss
import torch

from foundation import db
from foundation.config import current as settings
from marketplace_core.media._opencv import cv2
from vision import embedding, index_store


def hold_model() -> None:
    if not embedding.is_loaded():
        _use_threads(1)
        embedding.run_once()


def hold_duplicate_index() -> None:
    _use_threads(1)
    with db.unit_of_work() as s:
        index_store.hold_copy(s)


def set_job_threads() -> None:
    _use_threads(settings().VISION_WORKER_THREADS)


def _use_threads(count: int) -> None:
    torch.set_num_threads(count)
    faiss.omp_set_num_threads(count)
    cv2.setNumThreads(count)
