"""A fraud analyst runs the model loop in a real browser: trains a duplicate-model version
(the RQ worker trains it while the page reloads itself), reads its curves, chooses and
saves a threshold, starts it in shadow beside the champion, compares, promotes it and
rolls back."""
from __future__ import annotations

import json
import os

import pytest

from foundation import db, jobs
from foundation.staff.models import StaffUser
from tests.builders.model_versions import SMALL, train_version
from vision.modelops import scoring, services

pytestmark = pytest.mark.browser


def _champion_v1(staff_id: int) -> list[int]:
    version = train_version(staff_id)
    with db.unit_of_work() as s:
        services.promote(s, s.get(StaffUser, staff_id), version.id)
        return s.get(type(version), version.id).held_out["subject_ids"]


def test_an_analyst_trains_tunes_shadows_promotes_and_rolls_back(live_server, browser_page,
                                                                  staff):
    analyst, email, password = staff("fraud_analyst")
    subjects = _champion_v1(analyst)
    page = browser_page
    page.goto(f"{live_server}/console/vision_models/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/console/vision_models/")
    assert page.locator("[data-testid=champion-duplicate]").inner_text() == "duplicate v1"

    page.fill("#params-duplicate", json.dumps({**SMALL, "epochs": 5}))
    page.click("[data-testid=train-duplicate] button[type=submit]")
    page.wait_for_selector("text=is queued")
    assert page.locator("progress").count() == 1
    jobs.run_pending(["vision"])                       # the worker
    # The page reloads itself (a meta refresh, no script) until the run is done.
    page.wait_for_selector("text=duplicate v2 is a candidate", timeout=20_000)
    page.click("a:text-is('duplicate v2')")
    page.wait_for_selector("[data-testid=charts]")
    assert page.locator("[data-testid=charts] svg").count() == 4
    assert "AUC" in page.locator("[data-testid=metrics]").inner_text()

    page.fill("#target_precision", "0.9")
    page.click("[data-testid=chooser] button[type=submit]")
    threshold = page.locator("[data-testid=choice-threshold]").inner_text()
    page.click("text=Save this threshold")
    page.wait_for_selector(f"text=Threshold {threshold} saved")
    assert threshold in page.locator("[data-testid=threshold-history]").inner_text()

    page.click("text=Start shadow")
    page.wait_for_selector("text=is now in shadow")
    assert page.locator("[data-testid=version-status]").inner_text() == "shadow"
    with db.unit_of_work() as s:                       # the champion scores live traffic
        scoring.score_subjects(s, "duplicate", subjects)
    page.click("[data-testid=comparison-link]")
    assert page.locator("[data-testid=items]").inner_text() == str(len(subjects))
    page.go_back()

    page.click("text=Promote to champion")
    page.wait_for_selector("text=duplicate v2 is the champion")
    if os.environ.get("VISION_MODELS_SCREENSHOT"):
        page.screenshot(path=os.environ["VISION_MODELS_SCREENSHOT"], full_page=True)
    page.click("text=Roll back to the previous champion")
    page.wait_for_selector("text=duplicate v1 is the champion again")
    assert page.locator("[data-testid=version-status]").inner_text() == "champion"
    assert page.locator("[data-testid=version-title]").inner_text().startswith("duplicate v1")
    violations = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert violations == []
