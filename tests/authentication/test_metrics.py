"""Authentication metrics on a small, fully known scenario built through the staff API.

Day 0 is 2026-03-02 (UTC).  Reviewers: A (authenticator), B and C (seniors), L (a senior
acting as lead).  Eleven verdicts over three days:

    r1  A authentic, closed at once (1 h)                           SLA met, not checked
    r2  A counterfeit, C agrees                                     SLA met, A upheld
    r3  A counterfeit, C says authentic, L authentic (next day)     SLA missed, A overturned
    r5  B authentic (top price), C agrees                           SLA met, B upheld
    r8  B counterfeit, C says authentic, L counterfeit              SLA met, B upheld
    r6  A asks for photos (day 2): awaiting_photos
    r7  claimed by B (day 2); r4 created day 2 09:00 and waiting
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authentication import decisions, metrics
from foundation import clock, db
from tests.authentication.support import BASE, Reviewer, request_for
from tests.builders.cases import HIGH, TOP, pending_listing
from tests.builders.members import register
from tests.builders.staff import STRONG_PASSWORD, bearer_headers
from tests.helpers import sign_in

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)
NOW = DAY0 + timedelta(days=2, hours=12)
PAGE = "/console/authentication_metrics/"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    moment = DAY0 + timedelta(days=day, hours=hour, minutes=minute)
    clock.freeze(moment)
    return moment


class Staff(Reviewer):
    """A reviewer who signs in again whenever the clock has moved (tokens expire)."""

    def fresh(self) -> Staff:
        self.headers = bearer_headers(self.client, self.email)
        return self

    def decides(self, verdict: str, queue: str | None = None, **extra) -> dict:
        response = self.fresh().decide(self.claimed(queue), verdict, **extra)
        assert response.status_code == 200, response.json
        return response.json["request"]


@pytest.fixture
def scenario(client, staff):
    owner = register(client)
    a = Staff(client, staff, "authenticator")
    b = Staff(client, staff, "senior_authenticator")
    c = Staff(client, staff, "senior_authenticator")
    lead = Staff(client, staff, "senior_authenticator")
    listed = {}
    for minute, name in enumerate(("r1", "r2", "r3")):
        at(0, 8, minute)
        listed[name] = pending_listing(client, owner, price_paise=HIGH)

    at(0, 9)
    assert a.decides("authentic")["state"] == "closed_authentic"            # r1
    at(0, 10)
    assert a.decides("counterfeit")["state"] == "awaiting_second_review"   # r2
    at(0, 11)
    assert c.decides("counterfeit", "second_review")["state"] == "closed_counterfeit"
    at(0, 12)
    a.decides("counterfeit")                                                # r3
    at(1, 9)
    assert c.decides("authentic", "second_review")["state"] == "awaiting_lead"
    at(1, 10)
    assert lead.decides("authentic", "lead")["state"] == "closed_authentic"

    at(1, 11)
    listed["r5"] = pending_listing(client, owner, price_paise=TOP)
    at(1, 11, 30)
    assert b.decides("authentic")["state"] == "awaiting_second_review"
    at(1, 12)
    assert c.decides("authentic", "second_review")["state"] == "closed_authentic"
    at(1, 13)
    listed["r8"] = pending_listing(client, owner, price_paise=HIGH)
    at(1, 13, 30)
    b.decides("counterfeit")
    at(1, 14)
    c.decides("authentic", "second_review")
    at(1, 15)
    assert lead.decides("counterfeit", "lead")["state"] == "closed_counterfeit"

    at(2, 8)
    listed["r6"] = pending_listing(client, owner, price_paise=HIGH)
    at(2, 8, 30)
    assert a.decides("needs_more_photos", reason="detail_missing",
                     angles=["logo"])["state"] == "awaiting_photos"
    at(2, 8, 45)
    listed["r7"] = pending_listing(client, owner, price_paise=HIGH)
    at(2, 8, 50)
    assert b.fresh().claimed()["request"]["listing_id"] == listed["r7"]["id"]
    at(2, 9)
    listed["r4"] = pending_listing(client, owner, price_paise=HIGH)
    clock.freeze(NOW)
    return {"a": a, "b": b, "c": c, "lead": lead,
            "requests": {name: request_for(listing["id"]).id
                         for name, listing in listed.items()}}


def figures(days: int = 7) -> dict:
    s = db.session()
    try:
        return metrics.summary(s, days)
    finally:
        db.session.remove()


def test_every_metric_has_its_exact_value(scenario):
    a, b, c, lead = (scenario[k].id for k in ("a", "b", "c", "lead"))
    got = figures(7)

    assert got["window"] == {"start": (NOW - timedelta(days=7)).isoformat(),
                             "end": NOW.isoformat(), "days": 7}
    assert got["queue_depth"] == {"queued": 1, "claimed": 1, "awaiting_photos": 1,
                                  "escalated": 0, "awaiting_second_review": 0,
                                  "awaiting_lead": 0}
    assert got["oldest_waiting"] == {"request_id": scenario["requests"]["r4"],
                                     "state": "queued",
                                     "created_at": (DAY0 + timedelta(days=2, hours=9))
                                     .isoformat(), "age_seconds": 3 * 3600}
    assert got["sla"] == {"sla_hours": 24, "closed": 5, "met": 4, "missed": 1, "share": 0.8}

    daily = got["decisions_per_day"]
    assert daily["days"][0] == "2026-02-19" and daily["days"][-1] == "2026-03-04"
    assert len(daily["days"]) == 14
    per_reviewer = {r["reviewer_id"]: (r["counts"][-3:], r["total"])
                    for r in daily["reviewers"]}
    assert per_reviewer == {a: ([3, 0, 1], 4), b: ([0, 2, 0], 2), c: ([1, 3, 0], 4),
                            lead: ([0, 2, 0], 2)}
    assert all(r["counts"][:-3] == [0] * 11 for r in daily["reviewers"])

    assert got["verdict_mix"] == {
        "total": 12,
        "by_verdict": {"authentic": 6, "counterfeit": 5, "needs_more_photos": 1,
                       "escalate": 0},
        "by_stage": {
            "first": {"authentic": 2, "counterfeit": 3, "needs_more_photos": 1,
                      "escalate": 0},
            "second": {"authentic": 3, "counterfeit": 1, "needs_more_photos": 0,
                       "escalate": 0},
            "lead": {"authentic": 1, "counterfeit": 1, "needs_more_photos": 0,
                     "escalate": 0},
        }}
    assert got["agreement"] == {"second_reviews": 4, "agreed": 2, "disagreed": 2,
                                "rate": 0.5}
    accuracy = got["accuracy"]
    assert (accuracy["checked"], accuracy["against"], accuracy["accuracy"]) == (4, 1, 0.75)
    assert [(r["reviewer_id"], r["checked"], r["against"], r["accuracy"])
            for r in accuracy["reviewers"]] == [(a, 2, 1, 0.5), (b, 2, 0, 1.0)]


def test_a_one_day_window_counts_only_what_happened_in_it(scenario):
    got = figures(1)  # [day 1 12:00, day 2 12:00): r5 and r8 closed, r5/r8 second reviews
    assert got["sla"] == {"sla_hours": 24, "closed": 2, "met": 2, "missed": 0, "share": 1.0}
    assert got["agreement"] == {"second_reviews": 2, "agreed": 1, "disagreed": 1,
                                "rate": 0.5}
    # C at 12:00 and 14:00, B at 13:30, L at 15:00, A's photo request on day 2.
    assert got["verdict_mix"]["by_verdict"] == {"authentic": 2, "counterfeit": 2,
                                                "needs_more_photos": 1, "escalate": 0}
    assert [(r["reviewer_id"], r["checked"], r["against"])
            for r in got["accuracy"]["reviewers"]] == [(scenario["b"].id, 2, 0)]
    assert got["queue_depth"] == figures(7)["queue_depth"]  # the queue is always "now"


def test_an_empty_window_has_no_rates_rather_than_zero(client):
    clock.freeze(NOW)
    got = figures(7)
    assert got["sla"]["share"] is None and got["agreement"]["rate"] is None
    assert got["accuracy"] == {"checked": 0, "against": 0, "accuracy": None, "reviewers": []}
    assert got["oldest_waiting"]["age_seconds"] is None
    assert sum(got["queue_depth"].values()) == 0


def test_time_paused_for_photos_does_not_count_against_the_sla(client, staff):
    owner = register(client)
    at(0, 8)
    pending_listing(client, owner, price_paise=HIGH)
    reviewer = Staff(client, staff, "authenticator")
    at(0, 10)
    asked = reviewer.decides("needs_more_photos", reason="detail_missing", angles=["logo"])
    at(3, 10, 1)  # the seller never answered: rejected 74 wall-clock hours on, 2 active
    with db.unit_of_work() as s:
        assert decisions.reject_for_missing_photos(s, asked["id"])
    clock.freeze(NOW + timedelta(days=2))
    assert figures(7)["sla"] == {"sla_hours": 24, "closed": 1, "met": 1, "missed": 0,
                                 "share": 1.0}


def test_more_outcome_sources_fold_into_accuracy(scenario):
    """The hook disputes will use: another source's (checked, against) adds up per reviewer."""
    a = scenario["a"].id

    def passed_then_found_not_authentic(s, window):
        return {a: (1, 1)}

    s = db.session()
    try:
        got = metrics.reviewer_accuracy(
            s, metrics.last_days(7),
            sources=(*metrics.OUTCOME_SOURCES, passed_then_found_not_authentic))
    finally:
        db.session.remove()
    assert [(r["reviewer_id"], r["checked"], r["against"]) for r in got["reviewers"]] == \
        [(a, 3, 2), (scenario["b"].id, 2, 0)]


# --- the console page ----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["fraud_analyst", "senior_authenticator"])
def test_the_page_draws_every_chart(client, staff, scenario, role):
    _, email, _ = staff(role)
    sign_in(client, email)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") == 5
    assert "<script>" not in html
    assert "4 of 5" in html            # SLA met
    assert "1 overturned of 2" in html  # A's accuracy bar


def test_the_page_refuses_authenticators(client, staff):
    _, email, _ = staff("authenticator")
    sign_in(client, email)
    assert client.get(PAGE).status_code == 403


def test_a_bad_window_is_explained_and_the_default_shown(client, staff, scenario):
    _, email, _ = staff("fraud_analyst")
    sign_in(client, email)
    html = client.get(PAGE, query_string={"days": "5x"}).get_data(as_text=True)
    assert "The window must be one of" in html
    assert 'value="7" selected' in html


def test_reviewer_names_are_escaped_in_the_charts(client, staff, settings):
    from foundation.staff import services as staff_services

    clock.freeze(NOW)
    with db.unit_of_work() as s:
        staff_services.create_staff(s, settings, email="evil@staff.test",
                                    role="authenticator", password=STRONG_PASSWORD,
                                    display_name="<script>x</script>")
    owner = register(client)
    pending_listing(client, owner, price_paise=HIGH)
    evil = Staff.__new__(Staff)
    evil.client, evil.email = client, "evil@staff.test"
    evil.decides("authentic")
    clock.freeze(NOW + timedelta(minutes=1))  # windows end before "now"
    _, email, _ = staff("fraud_analyst")
    sign_in(client, email)
    html = client.get(PAGE).get_data(as_text=True)
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


# --- the JSON API --------------------------------------------------------------------------

def test_the_api_returns_the_same_figures(client, staff, scenario):
    analyst = Staff(client, staff, "fraud_analyst")
    response = client.get(f"{BASE}/metrics", query_string={"days": "1"},
                          headers=analyst.headers)
    assert response.status_code == 200, response.json
    assert response.json == figures(1)
    assert client.get(f"{BASE}/metrics", headers=analyst.headers).json == figures(7)


def test_the_api_needs_the_metrics_permission_and_a_sane_window(client, staff):
    clock.freeze(NOW)
    authenticator = Staff(client, staff, "authenticator")
    assert client.get(f"{BASE}/metrics", headers=authenticator.headers).status_code == 403
    assert client.get(f"{BASE}/metrics").status_code == 401
    senior = Staff(client, staff, "senior_authenticator")
    for bad in ("0", "91", "-1", "seven"):
        response = client.get(f"{BASE}/metrics", query_string={"days": bad},
                              headers=senior.headers)
        assert response.status_code == 422, (bad, response.status_code)
