"""The console's authentication pages: the queue, claiming, the workspace and the
decision form, with the role, CSRF and lease checks that keep them honest."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from authentication.models import CHECKLISTS, ReviewDecision
from foundation import clock, db
from marketplace_core.listings.models import ListingPhoto
from tests.authentication.support import Reviewer, listing_row, request_for
from tests.builders.cases import pending_listing
from tests.builders.listings import search_ids
from tests.helpers import page_token, signed_in

QUEUE = "/console/authentication/"


def decision_count() -> int:
    s = db.session()
    try:
        return s.scalar(select(func.count()).select_from(ReviewDecision))
    finally:
        db.session.remove()


def covershot_id(listing_id: int) -> int:
    s = db.session()
    try:
        return s.scalar(select(ListingPhoto.id).where(ListingPhoto.listing_id == listing_id)
                        .order_by(ListingPhoto.position))
    finally:
        db.session.remove()


def claim_from_console(client, queue: str = "review"):
    token = page_token(client, QUEUE)
    return client.post(f"{QUEUE}claim", data={"csrf_token": token, "queue": queue})


def form_fields(html: str) -> dict:
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            "lease_token": re.search(r'name="lease_token" value="([^"]+)"', html).group(1)}


def authentic_form(html: str, category: str = "sarees") -> dict:
    return {**form_fields(html), "verdict": "authentic", "reason": "all_points_consistent",
            "note": "checked every point",
            **{f"check_{point}": "pass" for point in CHECKLISTS[category]}}


@pytest.fixture
def pending(client, owner):
    return pending_listing(client, owner)


# --- who may see and do what --------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(client, pending):
    request_id = request_for(pending["id"]).id
    for path in (QUEUE, f"{QUEUE}{request_id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/console/auth/sign-in" in response.headers["Location"]
    token = page_token(client, "/console/auth/sign-in")
    response = client.post(f"{QUEUE}claim", data={"csrf_token": token, "queue": "review"})
    assert response.status_code == 302
    assert "/console/auth/sign-in" in response.headers["Location"]
    assert request_for(pending["id"]).state == "queued"


def test_other_roles_get_403_on_every_page_and_post(client, staff, pending):
    request_id = request_for(pending["id"]).id
    signed_in(client, staff, "support_agent")
    token = page_token(client, "/console/")
    assert client.get(QUEUE).status_code == 403
    assert client.get(f"{QUEUE}{request_id}").status_code == 403
    for action in ("claim", f"{request_id}/extend", f"{request_id}/release",
                   f"{request_id}/skip", f"{request_id}/decide"):
        response = client.post(f"{QUEUE}{action}", data={"csrf_token": token,
                                                          "lease_token": "x"})
        assert response.status_code == 403, action
    assert request_for(pending["id"]).state == "queued"


def test_an_authenticator_cannot_claim_from_the_senior_queues(client, staff, pending):
    signed_in(client, staff, "authenticator")
    page = client.get(QUEUE).get_data(as_text=True)
    assert 'data-testid="claim-review"' in page
    assert 'data-testid="claim-second_review"' not in page
    assert 'data-testid="claim-lead"' not in page
    assert claim_from_console(client, "second_review").status_code == 403
    assert claim_from_console(client, "lead").status_code == 403
    assert request_for(pending["id"]).state == "queued"


def test_a_senior_sees_every_queue(client, staff, pending):
    signed_in(client, staff, "senior_authenticator")
    page = client.get(QUEUE).get_data(as_text=True)
    for queue in ("review", "second_review", "lead"):
        assert f'data-testid="claim-{queue}"' in page


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(client, staff, pending):
    signed_in(client, staff, "authenticator")
    assert client.post(f"{QUEUE}claim", data={"queue": "review"}).status_code == 400
    assert request_for(pending["id"]).state == "queued"
    workspace = client.get(claim_from_console(client).headers["Location"])
    fields = authentic_form(workspace.get_data(as_text=True))
    request_id = request_for(pending["id"]).id
    del fields["csrf_token"]
    assert client.post(f"{QUEUE}{request_id}/decide", data=fields).status_code == 400
    assert client.post(f"{QUEUE}{request_id}/release",
                       data={"lease_token": fields["lease_token"]}).status_code == 400
    assert request_for(pending["id"]).state == "claimed"
    assert decision_count() == 0
    assert listing_row(pending["id"]).status == "pending_authentication"


# --- the queue page -----------------------------------------------------------------------

def test_the_queue_lists_what_the_reviewer_may_claim(client, staff, owner):
    listing = pending_listing(client, owner, price_paise=5_000_000, title="Kanjivaram silk")
    senior_only = pending_listing(client, owner, price_paise=15_000_000,
                                  title="Heirloom Paithani")
    signed_in(client, staff, "authenticator")
    page = client.get(QUEUE).get_data(as_text=True)
    review = page.split('data-testid="queue-review"')[1]
    assert "Kanjivaram silk" in review and "Rs 50,000.00" in review
    assert "Heirloom Paithani" not in review  # above the price an authenticator may take
    assert "published" in review
    assert f'/console/listings/photo/{covershot_id(listing["id"])}' in review
    assert re.search(r'<span class="auth-count-n">2</span> queued', page)
    assert senior_only["status"] == "pending_authentication"


def test_a_senior_sees_the_senior_only_badge(client, staff, owner):
    pending_listing(client, owner, price_paise=15_000_000, title="Heirloom Paithani")
    signed_in(client, staff, "senior_authenticator")
    review = client.get(QUEUE).get_data(as_text=True).split('data-testid="queue-review"')[1]
    assert "Heirloom Paithani" in review and "senior only" in review


# --- claiming and the workspace -------------------------------------------------------------

def test_claim_next_opens_the_workspace_with_photos_checklist_and_references(
        client, staff, owner):
    reference = pending_listing(client, owner, title="Authentic reference saree")
    reviewer = Reviewer(client, staff, "authenticator")
    claim = reviewer.claimed()
    assert reviewer.decide(claim, "authentic").status_code == 200
    assert listing_row(reference["id"]).status == "live"
    pending = pending_listing(client, owner, title="Saree under review")

    signed_in(client, staff, "authenticator")
    response = claim_from_console(client)
    request_id = request_for(pending["id"]).id
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{QUEUE}{request_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    photos = page.split('data-testid="photos"')[1].split('data-testid="references"')[0]
    own_photo = covershot_id(pending["id"])
    assert f'href="/console/listings/photo/{own_photo}" target="_blank"' in photos
    for point in CHECKLISTS["sarees"]:
        for result in ("pass", "fail", "na"):
            assert f'name="check_{point}" value="{result}"' in page
    assert 'name="check_hardware"' not in page  # sarees have no hardware
    references = page.split('data-testid="references"')[1].split("</div>")[0]
    reference_photo = covershot_id(reference["id"])
    assert f"/console/listings/photo/{reference_photo}" in references
    assert "Authentic reference saree" in references
    assert "median of Rs 50,000.00 over 1 live" in page
    assert 'data-testid="lease"' in page and "Your claim ends in" in page
    history = page.split('data-testid="seller"')[1].split("</table>")[0]
    assert f"#{request_for(reference['id']).id}" in history
    assert "closed authentic" in history and "0 strike(s)" in history
    my_items = client.get(QUEUE).get_data(as_text=True).split('data-testid="my-items"')[1]
    assert "Saree under review" in my_items


def test_claiming_with_nothing_to_claim_says_so(client, staff):
    signed_in(client, staff, "authenticator")
    response = claim_from_console(client)
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    assert "Nothing in the Review queue" in client.get(QUEUE).get_data(as_text=True)


def test_a_second_claim_beyond_the_limit_is_a_message(client, staff, owner):
    first = pending_listing(client, owner)
    second = pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    assert claim_from_console(client).status_code == 302
    response = claim_from_console(client)
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    assert "You already hold 1 request(s)" in client.get(QUEUE).get_data(as_text=True)
    assert sorted([request_for(first["id"]).state, request_for(second["id"]).state]) == [
        "claimed", "queued"]


def test_release_puts_the_item_back(client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    response = client.post(f"{QUEUE}{request_id}/release", data=form_fields(html))
    assert response.status_code == 302
    assert request_for(pending["id"]).state == "queued"


def test_extend_renews_the_lease_and_skip_hides_the_item(client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    first_expiry = request_for(pending["id"]).lease_expires_at
    clock.freeze(clock.now() + timedelta(minutes=10))
    response = client.post(f"{QUEUE}{request_id}/extend", data=form_fields(html))
    assert response.headers["Location"].endswith(f"{QUEUE}{request_id}")
    assert request_for(pending["id"]).lease_expires_at > first_expiry
    response = client.post(f"{QUEUE}{request_id}/skip", data=form_fields(html))
    assert response.status_code == 302
    assert request_for(pending["id"]).state == "queued"
    review = client.get(QUEUE).get_data(as_text=True).split('data-testid="queue-review"')[1]
    assert pending["title"] not in review


def test_a_lease_action_with_a_wrong_token_is_a_message(client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    response = client.post(f"{QUEUE}{request_id}/release",
                           data={**form_fields(html), "lease_token": "not-the-token"})
    assert response.status_code == 302
    assert "Your claim on this request has expired" in client.get(QUEUE).get_data(
        as_text=True)
    assert request_for(pending["id"]).state == "claimed"


# --- deciding -------------------------------------------------------------------------------

def test_an_authentic_decision_closes_the_request_and_the_listing_goes_live(
        client, staff, pending):
    assert pending["id"] not in search_ids(client)
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    response = client.post(f"{QUEUE}{request_id}/decide", data=authentic_form(html))
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    assert request_for(pending["id"]).state == "closed_authentic"
    listing = listing_row(pending["id"])
    assert listing.status == "live" and listing.authenticated_at is not None
    assert pending["id"] in search_ids(client)
    assert decision_count() == 1
    assert "authentic recorded" in client.get(QUEUE).get_data(as_text=True)


def test_a_stale_lease_shows_a_message_and_changes_nothing(client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    fields = authentic_form(html)
    clock.freeze(clock.now() + timedelta(minutes=16))  # the 15-minute lease ran out
    response = client.post(f"{QUEUE}{request_id}/decide", data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your claim on this request has expired" in page and "Nothing was changed" in page
    assert 'data-testid="not-held"' in page
    assert request_for(pending["id"]).state == "claimed"
    assert decision_count() == 0
    assert listing_row(pending["id"]).status == "pending_authentication"


def test_missing_checklist_points_are_form_messages_and_change_nothing(
        client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    fields = authentic_form(html)
    del fields["check_packaging"]
    response = client.post(f"{QUEUE}{request_id}/decide", data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "packaging: required for a final verdict" in page
    assert 'name="check_logo" value="pass" aria-label="logo pass" checked' in page
    assert "checked every point" in page  # the note is kept
    assert request_for(pending["id"]).state == "claimed"
    assert decision_count() == 0


def test_an_unknown_reason_code_is_refused(client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    response = client.post(f"{QUEUE}{request_id}/decide",
                           data={**authentic_form(html), "reason": "because"})
    assert response.status_code == 422
    assert "reason: choose a reason" in response.get_data(as_text=True)
    assert request_for(pending["id"]).state == "claimed"


def test_a_reason_of_another_verdict_is_refused_by_the_domain(client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    response = client.post(f"{QUEUE}{request_id}/decide",
                           data={**authentic_form(html), "reason": "logo_mismatch"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "is not one of the reasons for the verdict authentic" in page
    assert "reason: one of: all_points_consistent, matches_references" in page
    assert request_for(pending["id"]).state == "claimed"
    assert decision_count() == 0


def test_needs_more_photos_takes_the_angles_from_the_form(client, staff, pending):
    signed_in(client, staff, "authenticator")
    html = client.get(claim_from_console(client).headers["Location"]).get_data(as_text=True)
    request_id = request_for(pending["id"]).id
    response = client.post(f"{QUEUE}{request_id}/decide", data={
        **form_fields(html), "verdict": "needs_more_photos", "reason": "photos_unclear",
        "angles": "selvedge, blouse piece"})
    assert response.status_code == 302
    request = request_for(pending["id"])
    assert request.state == "awaiting_photos"
    assert request.requested_angles == ["selvedge", "blouse piece"]
