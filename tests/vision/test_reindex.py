"""Re-indexing the catalogue: a run row with progress, committed batch by batch, that
resumes where an interrupted run stopped; `flask vision reindex` draws it."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from foundation import db, jobs
from foundation.audit.models import AuditEvent
from foundation.errors import Conflict
from tests.builders.listings import post_listing
from tests.builders.members import register
from tests.builders.photos import photo_bytes
from tests.helpers import page_token, sign_in
from tests.vision.support import VISION_QUEUES, flags, signature_rows
from vision import reindex
from vision.models import RunState, VisionRun


@pytest.fixture
def catalogue(client):
    """Five photos nobody signed yet (their upload jobs are dropped), one a stolen copy."""
    owner, thief = register(client), register(client)
    post_listing(client, owner, photo_bytes(0), photo_bytes(1))
    post_listing(client, owner, photo_bytes(2))
    stolen = post_listing(client, thief, photo_bytes(4), photo_bytes(0, "crop_5"))
    for name in VISION_QUEUES:
        jobs.queue(name).empty()
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
    status = json.loads(runner.invoke(args=["vision", "index-status"]).output)
    assert (status["photos"], status["embedding_kind"], status["trained_on"]) == (5, "flat", 0)
    assert status["journal_ids"] <= status["journal_limit"] and status["snapshot_bytes"] > 0


def test_the_index_status_command_says_when_no_index_is_saved(app):
    result = app.test_cli_runner().invoke(args=["vision", "index-status"])
    assert result.exit_code == 1 and "No duplicate index is saved yet" in result.output


REINDEX_PAGE = "/console/vision_reindex/"


def test_an_analyst_starts_a_reindex_from_the_console_and_sees_it_finish(
        client, staff, catalogue):
    analyst_id, email, password = staff("fraud_analyst")
    assert sign_in(client, email, password).status_code == 302
    page = client.get(REINDEX_PAGE).get_data(as_text=True)
    assert 'data-testid="start-reindex"' in page and "No re-index runs yet." in page
    assert 'data-testid="index-status-none"' in page

    response = client.post(f"{REINDEX_PAGE}start", data={
        "csrf_token": page_token(client, REINDEX_PAGE), "recompute_all": "1"})
    assert response.status_code == 302
    [run] = runs()
    assert (run.state, run.recompute_all, run.requested_by) == (
        RunState.PENDING, True, f"staff:{analyst_id}")
    queued = client.get(REINDEX_PAGE).get_data(as_text=True)
    assert 'http-equiv="refresh"' in queued and 'data-testid="reindex-run-' in queued

    jobs.run_pending(["vision"])
    [run] = runs()
    assert (run.state, run.done, run.total) == (RunState.SUCCEEDED, 5, 5)
    assert run.flags_raised >= 1 and len(signature_rows()) == 5
    done = client.get(REINDEX_PAGE).get_data(as_text=True)
    assert "succeeded" in done and 'http-equiv="refresh"' not in done
    assert '<td data-testid="index-photos">5</td>' in done
    assert "exact, until 50,000 photos" in done
    with db.unit_of_work() as s:
        [audit] = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "vision.reindex_requested")).all()
        assert (audit.actor_id, audit.object_id, audit.after) == (
            analyst_id, str(run.id), {"recompute_all": True})


def test_a_second_run_is_refused_while_one_is_unfinished(client, staff, catalogue):
    _, email, password = staff("admin")
    assert sign_in(client, email, password).status_code == 302
    token = page_token(client, REINDEX_PAGE)
    assert client.post(f"{REINDEX_PAGE}start", data={"csrf_token": token}).status_code == 302
    second = client.post(f"{REINDEX_PAGE}start", data={"csrf_token": token})
    assert second.status_code == 409
    assert "still pending" in second.get_data(as_text=True) and len(runs()) == 1


def test_who_may_see_and_start_reindexing(client, staff, catalogue):
    _, email, password = staff("authenticator")   # sees vision, manages no models
    assert sign_in(client, email, password).status_code == 302
    page = client.get(REINDEX_PAGE)
    assert page.status_code == 200 and 'data-testid="start-reindex"' not in page.get_data(
        as_text=True)
    refused = client.post(f"{REINDEX_PAGE}start",
                          data={"csrf_token": page_token(client, REINDEX_PAGE)})
    assert refused.status_code == 403 and runs() == []
    assert client.post(f"{REINDEX_PAGE}start", data={}).status_code == 400
    assert runs() == []


def test_support_agents_do_not_see_reindexing(client, staff):
    _, email, password = staff("support_agent")
    assert sign_in(client, email, password).status_code == 302
    assert client.get(REINDEX_PAGE).status_code == 403
