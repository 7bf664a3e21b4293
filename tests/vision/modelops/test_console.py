"""The model registry's console pages: what an analyst sees and does, who may, CSRF."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from foundation import db, jobs
from tests.builders.model_versions import SMALL, train_version
from tests.builders.rows import count
from tests.helpers import csrf_token, signed_in
from tests.vision.modelops.support import audit_actions
from vision.calibration import SHIPPED
from vision.modelops.models import ModelVersion, ThresholdSetting, TrainingRun

PAGE = "/console/vision_models/"


def _post(client, path: str, data: dict | None = None, token: bool = True):
    body = dict(data or {})
    if token:
        body["csrf_token"] = csrf_token(client.get(PAGE).get_data(as_text=True))
    return client.post(path, data=body)


def _status(version_id: int) -> str:
    with db.unit_of_work() as s:
        return s.get(ModelVersion, version_id).status


def test_an_analyst_trains_watches_progress_and_reads_the_version(client, staff):
    signed_in(client, staff, "fraud_analyst")
    page = client.get(PAGE).get_data(as_text=True)
    assert 'data-testid="train-duplicate"' in page and "No training runs yet." in page
    response = _post(client, f"{PAGE}train", {"kind": "duplicate",
                                              "params": json.dumps(SMALL)})
    assert response.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in page and "<progress" in page
    assert jobs.run_pending(["vision"]) == 1
    page = client.get(PAGE).get_data(as_text=True)
    assert "refresh" not in page and "duplicate v1 is a candidate" in page
    with db.unit_of_work() as s:
        version_id = s.scalar(select(ModelVersion.id))
    page = client.get(f"{PAGE}versions/{version_id}").get_data(as_text=True)
    assert page.count('class="xy-chart"') == 4  # PR, ROC, reliability, training loss
    assert 'data-testid="confusion"' in page and 'data-testid="by-edit-type"' in page
    page = client.get(f"{PAGE}versions/{version_id}?target_precision=0.9").get_data(
        as_text=True)
    shown = re.search(r'data-testid="choice-threshold">([0-9.]+)<', page).group(1)
    assert "unknown (no scored volume" in page
    response = _post(client, f"{PAGE}versions/{version_id}/threshold",
                     {"target_precision": "0.9", "edit_type": ""})
    assert response.status_code == 302
    with db.unit_of_work() as s:
        setting = s.scalar(select(ThresholdSetting))
        assert f"{setting.threshold:.4f}" == shown and setting.edit_type is None
    assert audit_actions() == ["vision.training.start", "vision.threshold.set"]


def test_bad_input_is_a_message_and_changes_nothing(client, staff):
    analyst = signed_in(client, staff, "fraud_analyst")
    for params, message in [("{photos: 3", "not valid JSON"), ("[1]", "must be a JSON object"),
                            ('{"photos": "many"}', "photos: must be a whole number")]:
        response = _post(client, f"{PAGE}train", {"kind": "duplicate", "params": params})
        assert response.status_code == 303
        page = client.get(PAGE).get_data(as_text=True)
        assert message in page and "Nothing was changed." in page
    assert count(TrainingRun) == 0
    version = train_version(analyst)
    page = client.get(f"{PAGE}versions/{version.id}?target_precision=lots").get_data(
        as_text=True)
    assert 'data-testid="chooser-error"' in page and "must be a number" in page
    _post(client, f"{PAGE}versions/{version.id}/threshold", {"target_precision": "2"})
    assert "above 0 and at most 1" in client.get(f"{PAGE}versions/{version.id}").get_data(
        as_text=True)
    _post(client, f"{PAGE}kinds/duplicate/rollback")
    assert "no champion to roll back" in client.get(PAGE).get_data(as_text=True)
    assert client.get(f"{PAGE}versions/{version.id + 5}").status_code == 404
    assert count(ThresholdSetting) == 0 and audit_actions() == ["vision.training.start"]


def _actions(version_id: int) -> list[tuple[str, dict]]:
    return [(f"{PAGE}train", {"kind": "duplicate", "params": "{}"}),
            (f"{PAGE}versions/{version_id}/threshold", {"target_precision": "0.9"}),
            (f"{PAGE}versions/{version_id}/shadow/start", {}),
            (f"{PAGE}versions/{version_id}/shadow/stop", {}),
            (f"{PAGE}versions/{version_id}/promote", {}),
            (f"{PAGE}kinds/duplicate/rollback", {})]


@pytest.fixture
def version(staff):
    return train_version(staff("fraud_analyst")[0])


def test_viewers_see_the_pages_but_every_action_needs_manage_models(client, staff, version):
    signed_in(client, staff, "authenticator")     # vision.view only
    page = client.get(f"{PAGE}versions/{version.id}").get_data(as_text=True)
    assert "duplicate v1" in page and "Promote" not in page
    assert "Train a new version" not in client.get(PAGE).get_data(as_text=True)
    token = csrf_token(page)
    for path, data in _actions(version.id):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert _status(version.id) == "candidate" and count(TrainingRun) == 1
    assert audit_actions() == ["vision.training.start"]


def test_roles_without_vision_view_are_refused_every_page(client, staff, version):
    signed_in(client, staff, "support_agent")
    for path in (PAGE, f"{PAGE}versions/{version.id}",
                 f"{PAGE}versions/{version.id}/comparison"):
        assert client.get(path).status_code == 403
    assert client.get("/console/").status_code == 200


def test_a_post_without_a_csrf_token_changes_nothing(client, staff, version):
    signed_in(client, staff, "fraud_analyst")
    for path, data in _actions(version.id):
        assert client.post(path, data=data).status_code == 400, path
    assert _status(version.id) == "candidate" and count(TrainingRun) == 1
    assert count(ThresholdSetting) == 0 and audit_actions() == ["vision.training.start"]


def test_promote_shadow_compare_and_rollback_from_the_console(client, staff, version):
    analyst = signed_in(client, staff, "fraud_analyst")
    second = train_version(analyst, epochs=5)
    assert _post(client, f"{PAGE}versions/{version.id}/promote").status_code == 302
    assert _post(client, f"{PAGE}versions/{second.id}/shadow/start").status_code == 302
    assert _status(second.id) == "shadow"
    page = client.get(f"{PAGE}versions/{second.id}/comparison").get_data(as_text=True)
    assert 'data-testid="no-comparison"' in page
    # The real-photo precision the engine's threshold was measured at, beside drawn pairs.
    assert 'data-testid="duplicate-calibration"' in page
    assert f"{SHIPPED.precision * 100:.1f}%" in page
    assert _post(client, f"{PAGE}versions/{second.id}/promote").status_code == 302
    assert (_status(version.id), _status(second.id)) == ("retired", "champion")
    response = _post(client, f"{PAGE}versions/{version.id}/promote")
    assert response.status_code == 303
    assert "only a candidate or a shadow" in client.get(
        f"{PAGE}versions/{version.id}").get_data(as_text=True)
    assert _post(client, f"{PAGE}kinds/duplicate/rollback",
                 {"version_id": second.id}).status_code == 302
    assert (_status(version.id), _status(second.id)) == ("champion", "retired")
    assert audit_actions()[2:] == ["vision.model.promote", "vision.model.shadow_start",
                                   "vision.model.promote", "vision.model.rollback"]


def test_the_promote_form_is_refused_when_the_champion_changed_meanwhile(client, staff,
                                                                          version):
    analyst = signed_in(client, staff, "fraud_analyst")
    second = train_version(analyst, epochs=5)
    page = client.get(f"{PAGE}versions/{second.id}").get_data(as_text=True)
    assert 'name="replacing" value="none"' in page
    # Someone else promotes the first version after this page was drawn.
    assert _post(client, f"{PAGE}versions/{version.id}/promote",
                 {"replacing": "none"}).status_code == 302
    response = _post(client, f"{PAGE}versions/{second.id}/promote", {"replacing": "none"})
    assert response.status_code == 303 and _status(second.id) == "candidate"
    assert "The champion changed while you were looking" in client.get(
        f"{PAGE}versions/{second.id}").get_data(as_text=True)
    assert audit_actions().count("vision.model.promote") == 1
