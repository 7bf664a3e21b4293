"""The model registry's staff JSON API: the same services, bearer tokens, JSON errors."""
from __future__ import annotations

from foundation import jobs
from tests.builders.model_versions import SMALL, train_version
from tests.builders.rows import count
from tests.builders.staff import staff_bearer
from tests.vision.modelops.support import audit_actions
from vision.modelops.models import ThresholdSetting, TrainingRun

BASE = "/api/v1/staff/vision/models"


def _headers(client, staff, role: str) -> dict:
    return staff_bearer(client, staff, role)


def test_an_analyst_drives_the_loop_through_the_api(client, staff):
    h = _headers(client, staff, "fraud_analyst")
    kinds = client.get(f"{BASE}/", headers=h).json["kinds"]
    assert "duplicate" in [k["name"] for k in kinds]
    response = client.post(f"{BASE}/duplicate/train", json={"params": SMALL}, headers=h)
    assert response.status_code == 202 and response.json["run"]["state"] == "pending"
    run_id = response.json["run"]["id"]
    jobs.run_pending(["vision"])
    run = client.get(f"{BASE}/runs/{run_id}", headers=h).json["run"]
    assert run["state"] == "succeeded" and run["done"] == run["total"]
    [duplicate] = [k for k in client.get(f"{BASE}/", headers=h).json["kinds"]
                   if k["name"] == "duplicate"]
    version = duplicate["versions"][0]
    detail = client.get(f"{BASE}/versions/{version['id']}", headers=h).json["version"]
    assert detail["metrics"]["roc"][0] == {"fpr": 0.0, "tpr": 0.0, "threshold": None}
    assert len(detail["curves"]["train_loss"]) == SMALL["epochs"]
    choice = client.get(f"{BASE}/versions/{version['id']}/threshold?target_precision=0.95",
                        headers=h).json["choice"]
    assert choice["precision"] >= 0.95
    saved = client.post(f"{BASE}/versions/{version['id']}/threshold",
                        json={"target_precision": 0.95, "edit_type": "flip"}, headers=h)
    assert saved.status_code == 201 and saved.json["threshold"]["edit_type"] == "flip"
    promoted = client.post(f"{BASE}/versions/{version['id']}/promote", headers=h)
    assert promoted.json["version"]["status"] == "champion"
    again = client.post(f"{BASE}/versions/{version['id']}/promote", headers=h)
    assert again.status_code == 409 and again.json["error"]["code"] == "not_promotable"
    back = client.post(f"{BASE}/duplicate/rollback", headers=h)
    assert back.status_code == 409 and back.json["error"]["code"] == "no_previous_champion"
    assert audit_actions() == ["vision.training.start", "vision.threshold.set",
                               "vision.model.promote"]


def test_refusals_are_json_errors_and_change_nothing(client, staff):
    h = _headers(client, staff, "fraud_analyst")
    cases = [
        (f"{BASE}/duplicate/train", {"params": {"photos": "x"}}, 422, "bad_params"),
        (f"{BASE}/duplicate/train", {"params": [1]}, 422, "bad_params"),
        (f"{BASE}/tarot/train", {}, 404, "unknown_kind"),
        (f"{BASE}/versions/99/promote", {}, 404, "unknown_version"),
        (f"{BASE}/versions/99/promote", [], 400, "malformed_json"),
        (f"{BASE}/versions/99/threshold", {"target_precision": 0.9}, 404, "unknown_version"),
    ]
    for path, body, status, code in cases:
        response = client.post(path, json=body, headers=h)
        assert (response.status_code, response.json["error"]["code"]) == (status, code), path
    assert client.post(f"{BASE}/duplicate/train", data="{", headers={
        **h, "Content-Type": "application/json"}).status_code == 400
    assert count(TrainingRun) == 0 and count(ThresholdSetting) == 0 and audit_actions() == []


def test_the_api_checks_the_token_and_the_permission(client, staff):
    assert client.get(f"{BASE}/").status_code == 401
    viewer = _headers(client, staff, "authenticator")
    assert client.get(f"{BASE}/", headers=viewer).status_code == 200
    response = client.post(f"{BASE}/duplicate/train", json={}, headers=viewer)
    assert response.status_code == 403
    for path in (f"{BASE}/versions/1/promote", f"{BASE}/duplicate/rollback"):
        assert client.post(path, headers=viewer).status_code == 403
    agent = _headers(client, staff, "support_agent")
    assert client.get(f"{BASE}/", headers=agent).status_code == 403
    assert count(TrainingRun) == 0


def test_a_promotion_through_the_api_can_name_the_champion_it_replaces(client, staff):
    h = _headers(client, staff, "fraud_analyst")
    first, second = (train_version(staff("fraud_analyst")[0]) for _ in range(2))
    promoted = client.post(f"{BASE}/versions/{first.id}/promote", json={"replacing": None},
                           headers=h)
    assert promoted.status_code == 200 and promoted.json["version"]["status"] == "champion"
    stale = client.post(f"{BASE}/versions/{second.id}/promote", json={"replacing": None},
                        headers=h)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "stale_champion"
    bad = client.post(f"{BASE}/versions/{second.id}/promote", json={"replacing": [1]},
                      headers=h)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "bad_replacing"
    replaced = client.post(f"{BASE}/versions/{second.id}/promote",
                           json={"replacing": first.id}, headers=h)
    assert replaced.json["version"]["status"] == "champion"
    assert audit_actions()[-3:] == ["vision.training.start", "vision.model.promote",
                                    "vision.model.promote"]
