"""Duplicate flags where staff see them: the console's Duplicates page (grouped, photos side
by side, confirm / dismiss with CSRF, audited, permission-checked) and the authentication
workspace and staff API of a listing under review."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from foundation import db
from foundation.audit.models import AuditEvent
from tests.authentication.support import BASE, Reviewer, request_for
from tests.builders.cases import HIGH
from tests.builders.listings import post_listing
from tests.builders.members import register
from tests.builders.photos import photo_bytes
from tests.helpers import page_token, signed_in
from tests.vision.support import flags, run_vision_jobs
from vision.models import FlagKind, FlagStatus

PAGE = "/console/vision_duplicates/"


@pytest.fixture
def stolen(client):
    """An owner's listing and a thief's copy of its photo (padded), flagged."""
    owner, thief = register(client), register(client)
    original = post_listing(client, owner, photo_bytes(0))
    copy = post_listing(client, thief, photo_bytes(0, "pad_20"), price_paise=HIGH)
    run_vision_jobs()
    [flag] = flags()
    assert flag.kind == FlagKind.STOLEN_PHOTO
    return original, copy, flag


def audits() -> list[AuditEvent]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent).where(
            AuditEvent.action.like("vision.%")).order_by(AuditEvent.id)))


def flag_status(flag_id: int) -> str:
    return next(f.status for f in flags() if f.id == flag_id)


def test_an_analyst_sees_the_group_with_both_photos_and_confirms(client, staff, stolen):
    original, copy, flag = stolen
    analyst_id = signed_in(client, staff, "fraud_analyst")
    page = client.get(PAGE).get_data(as_text=True)
    assert f'data-testid="group-{original["id"]}"' in page
    assert f"/console/listings/photo/{flag.photo_id}" in page
    assert f"/console/listings/photo/{flag.matched_photo_id}" in page
    assert "Stolen photo" in page
    response = client.post(f"{PAGE}{flag.id}/confirm", data={
        "csrf_token": page_token(client, PAGE), "note": "same background, cropped"})
    assert response.status_code == 302
    assert flag_status(flag.id) == FlagStatus.CONFIRMED
    [audit] = audits()
    assert (audit.action, audit.actor_id, audit.object_id) == (
        "vision.flag_confirm", analyst_id, str(flag.id))
    assert audit.after["note"] == "same background, cropped"
    assert f"group-{original['id']}" not in client.get(PAGE).get_data(as_text=True)
    confirmed = client.get(PAGE, query_string={"status": "confirmed"}).get_data(as_text=True)
    assert f'data-testid="flag-{flag.id}"' in confirmed

    again = client.post(f"{PAGE}{flag.id}/dismiss", data={
        "csrf_token": page_token(client, PAGE)})
    assert again.status_code == 409 and "already confirmed" in again.get_data(as_text=True)
    assert flag_status(flag.id) == FlagStatus.CONFIRMED and len(audits()) == 1


def test_a_post_without_csrf_changes_nothing(client, staff, stolen):
    flag = stolen[2]
    signed_in(client, staff, "fraud_analyst")
    assert client.post(f"{PAGE}{flag.id}/dismiss", data={}).status_code == 400
    assert flag_status(flag.id) == FlagStatus.OPEN and audits() == []


def test_bad_input_is_refused_with_a_reason(client, staff, stolen):
    flag = stolen[2]
    signed_in(client, staff, "admin")
    token = page_token(client, PAGE)
    wrong = client.post(f"{PAGE}{flag.id}/approve", data={"csrf_token": token})
    assert wrong.status_code == 422 and "Choose confirm or dismiss" in wrong.get_data(
        as_text=True)
    long_note = client.post(f"{PAGE}{flag.id}/dismiss", data={"csrf_token": token,
                                                               "note": "x" * 501})
    assert long_note.status_code == 422
    assert client.post(f"{PAGE}999999/dismiss", data={"csrf_token": token}).status_code == 404
    assert client.get(PAGE, query_string={"kind": "nonsense"}).status_code == 422
    assert flag_status(flag.id) == FlagStatus.OPEN and audits() == []


def test_who_may_see_and_who_may_decide(app, client, staff, stolen):
    flag = stolen[2]
    agent = app.test_client()
    signed_in(agent, staff, "support_agent")             # no VISION_VIEW
    assert agent.get(PAGE).status_code == 403
    signed_in(client, staff, "authenticator")            # sees flags, may not decide
    page = client.get(PAGE)
    assert page.status_code == 200
    assert f'data-testid="flag-{flag.id}"' in page.get_data(as_text=True)
    assert f"{flag.id}/confirm" not in page.get_data(as_text=True)
    refused = client.post(f"{PAGE}{flag.id}/confirm", data={
        "csrf_token": page_token(client, PAGE)})
    assert refused.status_code == 403
    assert flag_status(flag.id) == FlagStatus.OPEN and audits() == []


def test_the_authentication_workspace_and_staff_api_show_the_flags(client, staff, stolen):
    original, copy, flag = stolen
    request_id = request_for(copy["id"]).id
    reviewer = Reviewer(client, staff, "authenticator")
    detail = client.get(f"{BASE}/{request_id}", headers=reviewer.headers).json
    [shown] = detail["signals"]["duplicate_flags"]
    assert (shown["kind"], shown["matched_listing_id"], shown["status"]) == (
        "stolen_photo", original["id"], "open")
    signed_in(client, staff, "authenticator")
    page = client.get(f"/console/authentication/{request_id}").get_data(as_text=True)
    assert 'data-testid="duplicate-flags"' in page
    assert f"copies a photo of listing #{original['id']}" in page


def test_the_listing_page_shows_its_flags_to_staff_who_may_see_vision(app, client, staff,
                                                                      stolen):
    original, copy, flag = stolen
    signed_in(client, staff, "fraud_analyst")
    page = client.get(f"/console/listings/details/?id={copy['id']}").get_data(as_text=True)
    assert 'data-testid="listing-duplicate-flags"' in page
    assert f'copies a photo of <a href="/console/listings/details/?id={original["id"]}">' in page
    other_side = client.get(f"/console/listings/details/?id={original['id']}")
    assert "copied by" in other_side.get_data(as_text=True)
    agent = app.test_client()
    signed_in(agent, staff, "support_agent")            # sees listings, not vision
    hidden = agent.get(f"/console/listings/details/?id={copy['id']}")
    assert hidden.status_code == 200
    assert 'data-testid="listing-duplicate-flags"' not in hidden.get_data(as_text=True)
