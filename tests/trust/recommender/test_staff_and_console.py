"""The staff API and the console pages: permission, contract, CSRF, audit."""
from __future__ import annotations

from sqlalchemy import select

from foundation import db, jobs
from foundation.audit.models import AuditEvent
from tests.builders.members import headers_for
from tests.builders.staff import staff_bearer
from tests.helpers import page_token, sign_in
from trust.recommender import runs
from trust.recommender.impressions import flush_impressions
from trust.recommender.models import FeedImpression, RecommendationRun

STAFF_FEED = "/api/v1/staff/trust/members/{}/feed"


def _token(client, staff, role: str) -> dict:
    return staff_bearer(client, staff, role)


def _precompute() -> None:
    with db.unit_of_work() as s:
        runs.start_run(s, "precompute", "test")
    jobs.run_pending(["default"])


def _impressions() -> int:
    with db.unit_of_work() as s:
        flush_impressions(s)   # what was served is buffered in Redis first
    with db.unit_of_work() as s:
        return len(s.scalars(select(FeedImpression.id)).all())


def test_the_staff_feed_shows_both_pages_and_why(client, staff, world):
    _precompute()
    member = world.member_ids[0]
    assert client.get(STAFF_FEED.format(member)).status_code == 401
    assert client.get(STAFF_FEED.format(member),
                      headers=_token(client, staff, "support_agent")).status_code == 403
    headers = _token(client, staff, "fraud_analyst")
    response = client.get(STAFF_FEED.format(member) + "?limit=6", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["member_id"] == member and body["origin"] == "precomputed"
    assert len(body["with_trust"]) == 6 and len(body["without_trust"]) == 6
    item = body["with_trust"][0]
    assert set(item) >= {"position", "listing_id", "seller_tier", "source", "reason",
                         "base_score", "score", "flagged", "adjustments"}
    for page in (body["with_trust"], body["without_trust"]):
        assert [i["position"] for i in page] == list(range(1, 7))
    assert client.get(STAFF_FEED.format(999999), headers=headers).status_code == 404
    assert client.get(STAFF_FEED.format(member) + "?limit=x",
                      headers=headers).status_code == 422
    assert _impressions() == 0   # an analyst's look is not an impression
    [run] = client.get("/api/v1/staff/trust/recommendations/runs", headers=headers).json["runs"]
    assert (run["kind"], run["state"]) == ("precompute", "succeeded")


def test_console_pages_need_trust_view(client, staff, world):
    assert client.get("/console/trust_feed/").status_code == 302   # to sign in
    _, email, password = staff("support_agent")
    sign_in(client, email, password)
    assert client.get("/console/trust_feed/").status_code == 403
    assert client.get("/console/trust_exposure/").status_code == 403


def test_an_analyst_sees_a_members_feed_and_the_exposure(client, staff, world):
    _precompute()
    member = world.member_ids[1]
    client.get("/api/v1/feed/just-picked", headers=headers_for(member))   # impressions
    _, email, password = staff("fraud_analyst")
    sign_in(client, email, password)
    page = client.get(f"/console/trust_feed/?member={member}").get_data(as_text=True)
    assert 'data-testid="with-trust"' in page and 'data-testid="without-trust"' in page
    assert "precomputed candidates" in page
    missing = client.get("/console/trust_feed/?member=nobody-here").get_data(as_text=True)
    assert "No member" in missing
    dashboard = client.get("/console/trust_exposure/").get_data(as_text=True)
    assert "12 impressions" in dashboard and "<svg" in dashboard
    assert 'data-testid="runs"' in dashboard


def test_starting_a_precompute_from_the_console_needs_csrf_and_is_audited(client, staff, world):
    _, email, password = staff("fraud_analyst")
    sign_in(client, email, password)
    refused = client.post("/console/trust_exposure/precompute", data={})
    assert refused.status_code == 400
    token = page_token(client, "/console/trust_exposure/")
    started = client.post("/console/trust_exposure/precompute", data={"csrf_token": token})
    assert started.status_code == 302
    with db.unit_of_work() as s:
        [run] = s.scalars(select(RecommendationRun)).all()
        assert run.requested_by.startswith("staff:")
        [event] = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "recommendations.precompute")).all()
        assert event.object_id == str(run.id)
