"""/api/v1/staff/trust: bearer auth (401/403), the contract of each answer, and weights
changes (trust.manage; 422 with fields on bad input, nothing written)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from foundation import db
from tests.builders.listings import listing_through_services
from tests.builders.members import make_member
from tests.builders.staff import staff_bearer
from tests.trust.support import run_trust_jobs
from trust.signals.models import TrustWeightsVersion
from trust.weights import TrustWeights

BASE = "/api/v1/staff/trust"


def bearer(client, staff, role: str) -> dict:
    return staff_bearer(client, staff, role)


@pytest.fixture
def scored(app):
    seller = make_member("meera")
    listing = listing_through_services(seller, {
        "title": "Ikat saree", "brand": "Pochampally", "category": "sarees",
        "size": "Free size", "condition": "new_with_tags", "price_paise": 320_000})
    run_trust_jobs()
    return seller, listing


def test_no_token_is_401_and_a_role_without_trust_view_is_403(client, staff, scored):
    seller, _ = scored
    assert client.get(f"{BASE}/sellers/{seller}").status_code == 401
    refused = client.get(f"{BASE}/sellers/{seller}", headers=bearer(client, staff, "support_agent"))
    assert refused.status_code == 403 and refused.json["error"]["code"]
    assert client.post(f"{BASE}/weights", json={"weights": {"penalty_strike": 0.2},
                                                "note": "x"},
                       headers=bearer(client, staff, "authenticator")).status_code == 403


def test_a_seller_answer_has_its_score_parts_counts_reasons_and_history(client, staff, scored):
    seller, _ = scored
    body = client.get(f"{BASE}/sellers/{seller}",
                      headers=bearer(client, staff, "fraud_analyst")).json["seller"]
    assert body["tier"] == "new" and body["score"] == TrustWeights().neutral_score
    assert set(body["parts"]) >= {"order_history", "strikes", "duplicate_flags"}
    assert body["counts"]["orders"] == 0 and body["counts"]["account_age_days"] == 0
    assert body["reasons"][0] == "tier new"
    assert [h["cause"] for h in body["history"]] == ["listing went live"]
    assert body["username"] == "meera" and body["flagged_listings"] == []


def test_a_listing_answer_has_its_risk_and_history(client, staff, scored):
    _, listing = scored
    headers = bearer(client, staff, "fraud_analyst")
    body = client.get(f"{BASE}/listings/{listing}", headers=headers).json["listing"]
    assert (body["excluded"], body["flagged"], body["status"]) == (False, False, "live")
    assert body["history"][0]["details"]["authenticated"] is False
    missing = client.get(f"{BASE}/listings/999999", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "listing_not_found"


def test_weights_change_through_the_api_and_show_in_the_history(client, staff, scored):
    headers = bearer(client, staff, "fraud_analyst")
    created = client.post(f"{BASE}/weights", headers=headers, json={
        "weights": {"neutral_score": 0.65}, "note": "softer prior"})
    assert created.status_code == 201 and created.json["version"] == 1
    listed = client.get(f"{BASE}/weights", headers=headers).json
    assert listed["version"] == 1 and listed["weights"]["neutral_score"] == 0.65
    assert listed["history"][0]["changed"] == {"neutral_score": {"before": 0.7,
                                                                 "after": 0.65}}
    assert listed["history"][0]["note"] == "softer prior"
    run_trust_jobs()   # the re-score the change queued
    seller = client.get(f"{BASE}/sellers/{scored[0]}", headers=headers).json["seller"]
    assert seller["score"] == 0.65 and seller["history"][-1]["cause"] == "weights v1"


@pytest.mark.parametrize("body, field", [
    ({"weights": {"penalty_strike": -1}, "note": "n"}, "penalty_strike"),
    ({"weights": {"no_such_weight": 1}, "note": "n"}, "no_such_weight"),
    ({"weights": {"penalty_strike": "lots"}, "note": "n"}, "penalty_strike"),
    ({"weights": {"penalty_strike": 0.2}}, "note"),
    ({"weights": {}, "note": "n"}, "weights"),
    ({"weights": {"penalty_strike": 0.15}, "note": "n"}, "penalty_strike"),   # unchanged
])
def test_bad_weights_are_422_with_the_field_and_write_nothing(client, staff, scored, body,
                                                               field):
    response = client.post(f"{BASE}/weights", json=body,
                           headers=bearer(client, staff, "admin"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(TrustWeightsVersion)) == 0


def test_a_weights_change_is_audited_with_what_changed(client, staff, scored):
    from foundation.audit.models import AuditEvent

    client.post(f"{BASE}/weights", headers=bearer(client, staff, "admin"),
                json={"weights": {"penalty_strike": 0.2}, "note": "strikes weigh more"})
    with db.unit_of_work() as s:
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "trust.weights_change")).one()
        assert (event.object_type, event.object_id) == ("trust_weights", "1")
        assert event.before == {"penalty_strike": 0.15}
        assert event.after == {"penalty_strike": 0.2, "note": "strikes weigh more"}
