"""A production worker forks a work horse per job: the image stack is imported once in
the worker before it forks, and its horses sign photos with it (a real `flask worker`
process: the test process itself has run torch, and a fork of it could not)."""
from __future__ import annotations

import subprocess
import sys

from foundation import jobs
from foundation.config import PROJECT_ROOT
from tests.builders.listings import post_listing
from tests.builders.members import register
from tests.builders.photos import photo_bytes
from tests.helpers import worker_env
from tests.vision.support import signature_rows


def test_only_the_vision_worker_imports_the_image_stack_before_forking():
    assert jobs.warm_up(["default", "scheduled"]) == []
    assert jobs.warm_up(["vision"]) == ["import_image_stack"]


def test_a_forking_worker_signs_uploads_with_the_stack_it_imported(client, app, settings):
    seller = register(client)
    post_listing(client, seller, photo_bytes(0), photo_bytes(1))
    assert jobs.queue("vision").count >= 2
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues", "vision",
         "--burst"], cwd=PROJECT_ROOT, env=worker_env(app, settings), capture_output=True,
        text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "warmed import_image_stack" in result.stderr
    rows = signature_rows()
    assert len(rows) == 2 and {row.state for row in rows} == {"indexed"}
    assert jobs.queue("vision").count == 0

