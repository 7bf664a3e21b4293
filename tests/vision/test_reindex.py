"""Re-indexing the catalogue: a run row with progress, committed batch by batch, that
resumes where an interrupted run stopped; `flask vision reindex` draws it."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from foundation import db, jobs
from foundation.errors import Conflict
from tests.vision.support import (
    flags,
    new_seller,
    photo_bytes,
    post_listing,
    signature_rows,
)
from vision import reindex
from vision.models import RunState, VisionRun


@pytest.fixture
def catalogue(client):
    """Five photos nobody signed yet (their upload jobs are dropped), one a stolen copy."""
    owner, thief = new_seller(client), new_seller(client)
    post_listing(client, owner, photo_bytes(0), photo_bytes(1))
    post_listing(client, owner, photo_bytes(2))
    stolen = post_listing(client, thief, photo_bytes(4), photo_bytes(0, "crop_5"))
    jobs.queue("vision").empty()
    return stolen


def runs() -> list[VisionRun]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(VisionRun).order_by(VisionRun.id)))


class Killed(BaseException):
    """What a worker dying mid-run looks like from inside: nothing after it runs."""


def test_an_interrupted_run_resumes_after_its_last_committed_batch(client, catalogue,
                                                                   monkeypatch):
    monkeypatch.setattr(reindex, "BATCH", 2)
    with db.unit_of_work() as s:
        run_id = reindex.start_run(s, requested_by="test").id

    def die_after_first_batch(run):
        raise Killed

    with pytest.raises(Killed):
        reindex.advance(run_id, die_after_first_batch)
    [run] = runs()
    assert (run.state, run.done, run.total) == (RunState.RUNNING, 2, 5)
    assert len(signature_rows()) == 2
    with db.unit_of_work() as s, pytest.raises(Conflict):
        reindex.start_run(s, requested_by="test")       # resume it, do not start another

    seen = []
    finished = reindex.advance(run_id, lambda r: seen.append(r.done))
    assert seen == [4, 5]                                # from where it stopped
    assert (finished.state, finished.done, finished.failed) == (RunState.SUCCEEDED, 5, 0)
    assert finished.flags_raised == 1 and len(flags()) == 1
    assert len(signature_rows()) == 5
    assert reindex.advance(run_id).state == RunState.SUCCEEDED   # delivered twice: no-op


def test_one_process_at_a_time_works_a_run(client, catalogue):
    with db.unit_of_work() as s:
        run_id = reindex.start_run(s, requested_by="test").id
    held = jobs.connection().lock(f"vision:run:{run_id}", timeout=60)
    assert held.acquire(blocking=False)
    with pytest.raises(Conflict) as refused:
        reindex.advance(run_id)
    assert refused.value.code == "run_busy"
    held.release()


def test_the_cli_reindexes_with_a_progress_bar_and_resumes(app, catalogue):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["vision", "reindex"])
    assert result.exit_code == 0, result.output
    assert "signing photos" in result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["state"] == "succeeded" and summary["photos"] == 5
    assert summary["flags_raised"] == 1
    before = [(r.photo_id, r.computed_at) for r in signature_rows()]
    again = runner.invoke(args=["vision", "reindex"])          # nothing changed: no-op
    assert json.loads(again.output.strip().splitlines()[-1])["flags_raised"] == 0
    assert [(r.photo_id, r.computed_at) for r in signature_rows()] == before
    forced = runner.invoke(args=["vision", "reindex", "--all"])  # every photo re-signed
    assert forced.exit_code == 0, forced.output
    assert all(r.computed_at > b for r, (_, b) in zip(signature_rows(), before, strict=True))
    assert len(flags()) == 1
