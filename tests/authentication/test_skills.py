"""Reviewers' skills: leads set them (staff API and console), they are validated and
audited, and routing follows them (a price ceiling; matching items first, within the
same priority)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from authentication.models import AuthenticationRequest, ReviewerSkill
from foundation import clock, db
from foundation.audit.models import AuditEvent
from tests.authentication.support import BASE, Reviewer, assert_error, request_for
from tests.builders.cases import HIGH, pending_listing
from tests.builders.members import register
from tests.helpers import page_token, signed_in

SKILLS = f"{BASE}/skills"
PAGE = "/console/authentication_skills/"
CHEAP = 2_000_000          # Rs 20,000


def skill_row(staff_id: int) -> ReviewerSkill | None:
    with db.unit_of_work() as s:
        return s.scalar(select(ReviewerSkill).where(ReviewerSkill.staff_id == staff_id))


def skills_audits(staff_id: int) -> list[AuditEvent]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent).where(
            AuditEvent.action == "authentication.skills",
            AuditEvent.object_id == str(staff_id)).order_by(AuditEvent.id)))


def audit_count() -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "authentication.skills"))


@pytest.fixture
def lead(client, staff):
    return Reviewer(client, staff, "senior_authenticator")


# --- the staff API ----------------------------------------------------------------------

def test_a_lead_sets_and_reads_a_reviewers_skills_audited(client, lead, reviewer):
    assert client.get(f"{SKILLS}/{reviewer.id}", headers=lead.headers).json == {
        "staff_id": reviewer.id, "brands": [], "categories": [], "max_price_paise": None}
    response = client.put(f"{SKILLS}/{reviewer.id}", headers=lead.headers, json={
        "brands": [" Sabyasachi", "sabyasachi", "Titan"], "categories": ["sarees", "watches"],
        "max_price_paise": 5_000_000})
    assert response.status_code == 200, response.json
    expected = {"staff_id": reviewer.id, "brands": ["sabyasachi", "titan"],
                "categories": ["sarees", "watches"], "max_price_paise": 5_000_000}
    assert response.json == expected
    assert client.get(f"{SKILLS}/{reviewer.id}", headers=lead.headers).json == expected
    stored = skill_row(reviewer.id)
    assert (stored.brands, stored.categories, stored.max_price_paise) == \
        (["sabyasachi", "titan"], ["sarees", "watches"], 5_000_000)
    cleared = client.put(f"{SKILLS}/{reviewer.id}", headers=lead.headers,
                         json={"brands": [], "categories": [], "max_price_paise": None})
    assert cleared.json["max_price_paise"] is None
    [first, second] = skills_audits(reviewer.id)
    assert (first.actor_id, first.object_type) == (lead.id, "staff_user")
    assert first.before == {"brands": [], "categories": [], "max_price_paise": None}
    assert first.after == {k: v for k, v in expected.items() if k != "staff_id"}
    assert second.before == first.after


def test_only_leads_may_see_or_set_skills(client, reviewer, staff):
    other = Reviewer(client, staff, "authenticator")
    agent = Reviewer(client, staff, "support_agent")
    body = {"brands": ["titan"], "categories": []}
    for who in (reviewer, other, agent):
        assert_error(client.get(f"{SKILLS}/{reviewer.id}", headers=who.headers), 403,
                     "forbidden")
        assert_error(client.put(f"{SKILLS}/{reviewer.id}", headers=who.headers, json=body),
                     403, "forbidden")
    assert_error(client.put(f"{SKILLS}/{reviewer.id}", json=body), 401, "not_authenticated")
    assert skill_row(reviewer.id) is None
    assert audit_count() == 0


@pytest.mark.parametrize("body, field", [
    ({"brands": ["titan"], "categories": ["spaceships"]}, "categories"),
    ({"brands": "titan", "categories": []}, "brands"),
    ({"brands": [7], "categories": []}, "brands"),
    ({"brands": ["x" * 61], "categories": []}, "brands"),
    ({"brands": ["titan"] * 51, "categories": []}, "brands"),
    ({"brands": [], "categories": [], "max_price_paise": 0}, "max_price_paise"),
    ({"brands": [], "categories": [], "max_price_paise": -5}, "max_price_paise"),
    ({"brands": [], "categories": [], "max_price_paise": "lots"}, "max_price_paise"),
    ({"brands": [], "categories": [], "max_price_paise": True}, "max_price_paise"),
    ({"brands": [], "categories": [], "max_price_paise": 12.5}, "max_price_paise"),
    ({"categories": []}, "brands"),
    ({"brands": [], "categories": [], "level": "expert"}, "level"),
])
def test_bad_skills_are_refused_field_by_field_and_change_nothing(client, lead, reviewer,
                                                                  body, field):
    response = client.put(f"{SKILLS}/{reviewer.id}", headers=lead.headers, json=body)
    assert_error(response, 422, "validation_failed")
    assert field in response.json["error"]["fields"]
    assert skill_row(reviewer.id) is None
    assert audit_count() == 0


def test_skills_belong_to_reviewers_only(client, lead, staff):
    agent_id = staff("support_agent")[0]
    body = {"brands": ["titan"], "categories": []}
    assert_error(client.put(f"{SKILLS}/{agent_id}", headers=lead.headers, json=body), 422,
                 "not_a_reviewer")
    assert_error(client.get(f"{SKILLS}/{agent_id}", headers=lead.headers), 422,
                 "not_a_reviewer")
    assert_error(client.put(f"{SKILLS}/999999", headers=lead.headers, json=body), 404,
                 "not_found")
    assert_error(client.put(f"{SKILLS}/{lead.id}", headers=lead.headers, data="[",
                            content_type="application/json"), 400, "malformed_json")
    assert audit_count() == 0


# --- routing ----------------------------------------------------------------------------

def test_a_reviewer_with_a_price_ceiling_never_gets_a_pricier_item(client, lead, reviewer,
                                                                   staff):
    owner = register(client)
    start = clock.now()
    clock.freeze(start)
    pricey = pending_listing(client, owner, price_paise=HIGH)        # oldest: first in line
    clock.freeze(start + timedelta(minutes=5))
    cheap = pending_listing(client, owner, price_paise=CHEAP)
    assert client.put(f"{SKILLS}/{reviewer.id}", headers=lead.headers, json={
        "brands": [], "categories": [], "max_price_paise": CHEAP}).status_code == 200
    items = reviewer.queue().json["items"]
    assert [item["listing_id"] for item in items] == [cheap["id"]]
    claim = reviewer.claimed()
    assert claim["request"]["listing_id"] == cheap["id"]
    assert reviewer.decide(claim, "authentic").status_code == 200
    assert reviewer.claim().status_code == 204                       # the pricey one waits
    assert request_for(pricey["id"]).state == "queued"
    other = Reviewer(client, staff, "authenticator")
    assert other.claimed()["request"]["listing_id"] == pricey["id"]


def test_priority_comes_before_a_skill_match_and_a_match_before_the_sla(client, lead,
                                                                        reviewer):
    owner = register(client)
    start = clock.now()
    clock.freeze(start)
    oldest = pending_listing(client, owner, brand="Kalinga Loom")
    clock.freeze(start + timedelta(minutes=1))
    urgent = pending_listing(client, owner, brand="Kalinga Loom")
    clock.freeze(start + timedelta(minutes=2))
    watch = pending_listing(client, owner, brand="Titan", category="watches", size="One size")
    with db.unit_of_work() as s:   # as if its SLA were breached
        s.execute(update(AuthenticationRequest).where(
            AuthenticationRequest.listing_id == urgent["id"]).values(priority=2))
    assert client.put(f"{SKILLS}/{reviewer.id}", headers=lead.headers,
                      json={"brands": ["TITAN"], "categories": []}).status_code == 200
    shown = [item["listing_id"] for item in reviewer.queue().json["items"]]
    assert shown == [urgent["id"], watch["id"], oldest["id"]]
    claimed = []
    for _ in range(3):
        claim = reviewer.claimed()
        claimed.append(claim["request"]["listing_id"])
        assert reviewer.decide(claim, "authentic").status_code == 200
    assert claimed == shown


# --- the console page -------------------------------------------------------------------

def test_the_page_lists_reviewers_and_a_lead_saves_skills(client, staff):
    reviewer_id = staff("authenticator")[0]
    agent_id = staff("support_agent")[0]
    lead_id = signed_in(client, staff, "senior_authenticator")
    page = client.get(PAGE).get_data(as_text=True)
    assert f'id="reviewer-{reviewer_id}"' in page and f'id="reviewer-{lead_id}"' in page
    assert f'id="reviewer-{agent_id}"' not in page
    response = client.post(f"{PAGE}{reviewer_id}", data={
        "csrf_token": page_token(client, PAGE), "brands": "Titan, Fastrack",
        "categories": ["watches", "sunglasses"], "max_price_rupees": "75,000"})
    assert response.status_code == 302
    stored = skill_row(reviewer_id)
    assert (stored.brands, stored.categories, stored.max_price_paise) == \
        (["titan", "fastrack"], ["watches", "sunglasses"], 7_500_000)
    [audit] = skills_audits(reviewer_id)
    assert audit.actor_id == lead_id
    page = client.get(PAGE).get_data(as_text=True)
    assert "titan, fastrack; watches, sunglasses; up to Rs 75000" in page


@pytest.mark.parametrize("field, value, message", [
    ("max_price_rupees", "a lot", "max price: a whole number of rupees"),
    ("max_price_rupees", "0", "max price: a positive whole number of paise"),
    ("categories", "spaceships", "categories: unknown: spaceships"),
])
def test_bad_console_input_is_a_form_message_and_changes_nothing(client, staff, field, value,
                                                                 message):
    reviewer_id = staff("authenticator")[0]
    signed_in(client, staff, "senior_authenticator")
    data = {"csrf_token": page_token(client, PAGE), "brands": "Titan", "categories": [],
            "max_price_rupees": "", field: value}
    response = client.post(f"{PAGE}{reviewer_id}", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "Nothing was changed." in page
    assert 'value="Titan"' in page                                    # the input is kept
    assert skill_row(reviewer_id) is None
    assert audit_count() == 0


def test_other_roles_are_refused(client, staff):
    reviewer_id = staff("authenticator")[0]
    signed_in(client, staff, "authenticator")
    token = page_token(client, "/console/")
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}{reviewer_id}", data={
        "csrf_token": token, "brands": "Titan"}).status_code == 403
    assert skill_row(reviewer_id) is None


def test_a_post_without_a_csrf_token_changes_nothing(client, staff):
    reviewer_id = staff("authenticator")[0]
    signed_in(client, staff, "senior_authenticator")
    response = client.post(f"{PAGE}{reviewer_id}", data={"brands": "Titan"})
    assert response.status_code == 400
    assert skill_row(reviewer_id) is None
    assert audit_count() == 0
