"""The Trust console pages: who sees them, what they show, and the weights form (CSRF,
trust.manage, versioned and audited; a refusal changes nothing)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from foundation import db
from foundation.audit.models import AuditEvent
from tests.builders.listings import listing_through_services
from tests.builders.members import make_member
from tests.helpers import page_token, sign_in
from tests.trust.support import run_trust_jobs
from trust.signals.models import TrustWeightsVersion

SELLERS, WEIGHTS = "/console/trust/", "/console/trust_weights/"


def signed_in(client, staff, role: str) -> None:
    _, email, password = staff(role)
    assert sign_in(client, email, password).status_code == 302


@pytest.fixture
def scored(app):
    seller = make_member("kavya")
    listing = listing_through_services(seller, {
        "title": "Chanderi kurta", "brand": "Fabindia", "category": "kurtas", "size": "M",
        "condition": "like_new", "price_paise": 250_000})
    run_trust_jobs()
    return seller, listing


def _count(model) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model))


def _weight_audits() -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "trust.weights_change"))


@pytest.mark.parametrize("role", ["authenticator", "support_agent", "support_lead"])
def test_roles_without_trust_view_are_refused(client, staff, scored, role):
    seller, listing = scored
    signed_in(client, staff, role)
    for path in (SELLERS, f"{SELLERS}sellers/{seller}", f"{SELLERS}listings/{listing}",
                 WEIGHTS):
        assert client.get(path).status_code == 403, path


def test_an_analyst_sees_sellers_a_seller_with_its_chart_and_a_listing(client, staff, scored):
    seller, listing = scored
    signed_in(client, staff, "fraud_analyst")
    overview = client.get(SELLERS, query_string={"tier": "new"}).get_data(as_text=True)
    assert "@kavya" in overview
    assert "@kavya" not in client.get(SELLERS, query_string={"tier": "risky"}).get_data(
        as_text=True)
    page = client.get(f"{SELLERS}sellers/{seller}").get_data(as_text=True)
    assert 'data-testid="tier">new<' in page and 'data-testid="score-chart"' in page
    assert "<svg" in page and "order history" in page
    risk = client.get(f"{SELLERS}listings/{listing}").get_data(as_text=True)
    assert 'data-testid="flagged">no<' in risk and "listing went live" in risk
    assert client.get(f"{SELLERS}sellers/999999").status_code == 404


def test_a_bad_filter_is_a_message_not_an_error(client, staff, scored):
    signed_in(client, staff, "fraud_analyst")
    page = client.get(SELLERS, query_string={"tier": "gold", "max_score": "x"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Unknown tier." in text and "max score must be a number" in text


def test_changing_a_weight_makes_an_audited_version(client, staff, scored):
    signed_in(client, staff, "fraud_analyst")
    response = client.post(WEIGHTS, data={"csrf_token": page_token(client, WEIGHTS),
                                          "penalty_strike": "0.2",
                                          "note": "strikes matter more"})
    assert response.status_code == 302
    page = client.get(WEIGHTS).get_data(as_text=True)
    assert 'data-testid="version">version 1<' in page
    assert "penalty_strike: 0.15 &rarr; 0.2" in page and "strikes matter more" in page
    assert _weight_audits() == 1


def test_the_weights_form_without_csrf_changes_nothing(client, staff, scored):
    signed_in(client, staff, "fraud_analyst")
    response = client.post(WEIGHTS, data={"penalty_strike": "0.2", "note": "no token"})
    assert response.status_code == 400
    assert _count(TrustWeightsVersion) == 0 and _weight_audits() == 0


def test_a_bad_weight_is_refused_with_its_field_and_changes_nothing(client, staff, scored):
    signed_in(client, staff, "admin")
    response = client.post(WEIGHTS, data={"csrf_token": page_token(client, WEIGHTS),
                                          "penalty_strike": "-1", "note": "oops"},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "penalty_strike: must not be negative" in text and "Nothing was changed" in text
    missing_note = client.post(WEIGHTS, data={"csrf_token": page_token(client, WEIGHTS),
                                              "penalty_strike": "0.2"}, follow_redirects=True)
    assert "Say why the weights change." in missing_note.get_data(as_text=True)
    assert _count(TrustWeightsVersion) == 0 and _weight_audits() == 0


def test_listing_and_member_pages_link_to_trust_for_analysts_only(app, client, staff,
                                                                  scored):
    seller, listing = scored
    signed_in(client, staff, "fraud_analyst")
    listing_page = client.get(f"/console/listings/details/?id={listing}").get_data(as_text=True)
    assert f"/console/trust/listings/{listing}" in listing_page
    member_page = client.get(f"/console/members/details/?id={seller}").get_data(as_text=True)
    assert f"/console/trust/sellers/{seller}" in member_page
    agent = app.test_client()
    signed_in(agent, staff, "support_agent")
    page = agent.get(f"/console/members/details/?id={seller}")
    assert page.status_code == 200 and "trust-link" not in page.get_data(as_text=True)
