"""What a vision worker holds before it forks work horses, so that a horse signs a photo
without first loading anything (vision.tasks registers these with foundation.jobs):

    hold_model()            # in the worker: torch and FAISS on one thread, the model run once
    hold_duplicate_index()  # in the worker: the saved index read, caught up after each job
    threads_back()          # in each horse: the thread counts the process started with

A horse inherits the worker's memory copy-on-write: the model's weights and the index
cost it nothing.  The worker runs kernels (the model's first run, FAISS adds while it
catches the index up) on one thread only: OpenMP then starts no thread pool, and the
horse, setting its thread counts back, starts its own.  A worker whose pool had started
would hand its horses one whose threads do not exist in them, and they would hang in their
first parallel kernel.  torch and FAISS each bring their own OpenMP runtime, hence both.

The index the worker holds goes stale as horses (its own and other workers') save photos;
a horse catches it up under the index lock before using it (vision.index_store), so it
never misses a photo, and the worker catches up its own copy after each job, so the next
horse has little or nothing to replay.
"""
from __future__ import annotations

import faiss
import torch

from foundation import db
from vision import embedding, index_store

_threads: dict[str, int] = {}


def hold_model() -> None:
    _one_thread_until_fork()
    embedding.run_once()


def hold_duplicate_index() -> None:
    _one_thread_until_fork()
    with db.unit_of_work() as s:
        index_store.hold_copy(s)


def threads_back() -> None:
    if _threads:
        torch.set_num_threads(_threads["torch"])
        faiss.omp_set_num_threads(_threads["faiss"])


def _one_thread_until_fork() -> None:
    """Reading the counts starts no pool; only a parallel kernel on more than one thread
    does."""
    if not _threads:
        _threads["torch"] = torch.get_num_threads()
        _threads["faiss"] = faiss.omp_get_max_threads()
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
