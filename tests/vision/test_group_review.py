"""A whole duplicate group confirmed or dismissed at once in the console, and its short-lived
undo: audited flag by flag, for the analyst who decided only, refused once too late."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from foundation import clock, db
from foundation.audit.models import AuditEvent
from tests.builders.cases import HIGH
from tests.builders.listings import post_listing
from tests.builders.members import register
from tests.builders.photos import photo_bytes
from tests.helpers import page_token, signed_in
from tests.vision.support import flags, run_vision_jobs
from vision.group_review import UNDO_SECONDS
from vision.models import FlagStatus

PAGE = "/console/vision_duplicates/"


@pytest.fixture
def group(client):
    """An owner's listing and two thieves' copies of its photo: one group of flags (the
    second copy also copies the first)."""
    owner, first, second = register(client), register(client), register(client)
    original = post_listing(client, owner, photo_bytes(0))
    post_listing(client, first, photo_bytes(0, "pad_20"), price_paise=HIGH)
    post_listing(client, second, photo_bytes(0, "crop_10"), price_paise=HIGH)
    run_vision_jobs()
    found = flags()
    assert len(found) >= 2 and {f.group_id for f in found} == {original["id"]}
    return original["id"], [f.id for f in found]


def statuses() -> list[str]:
    return [f.status for f in flags()]


def audit_actions() -> list[tuple[str, int, str]]:
    with db.unit_of_work() as s:
        return [(a.action, a.actor_id, a.object_id) for a in s.scalars(
            select(AuditEvent).where(AuditEvent.action.like("vision.%")).order_by(AuditEvent.id))]


def decide_group(client, group_id: int, decision: str = "confirm"):
    return client.post(f"{PAGE}group/{group_id}/{decision}",
                       data={"csrf_token": page_token(client, PAGE)})


def undo_fields(client) -> dict:
    page = client.get(PAGE).get_data(as_text=True)
    form = page.split('data-testid="undo"')[1].split("</form>")[0]
    value = {name: form.split(f'name="{name}" value="')[1].split('"')[0]
             for name in ("csrf_token", "flag_ids", "decision")}
    return value


def test_one_post_confirms_the_whole_group_and_undo_reopens_it(client, staff, group):
    group_id, flag_ids = group
    analyst = signed_in(client, staff, "fraud_analyst")

    response = decide_group(client, group_id)

    assert response.status_code == 302
    assert statuses() == [FlagStatus.CONFIRMED] * len(flags())
    page = client.get(PAGE).get_data(as_text=True)
    assert f'data-testid="group-{group_id}"' not in page
    assert f"{len(flag_ids)} flag(s) confirmed" in page and 'data-testid="undo"' in page
    fields = undo_fields(client)
    assert fields["flag_ids"] == ",".join(map(str, flag_ids))

    undone = client.post(f"{PAGE}undo", data=fields)

    assert undone.status_code == 302
    assert statuses() == [FlagStatus.OPEN] * len(flags())
    page = client.get(PAGE).get_data(as_text=True)
    assert f'data-testid="group-{group_id}"' in page and 'data-testid="undo"' not in page
    assert audit_actions() == [("vision.flag_confirm", analyst, str(i)) for i in flag_ids] + \
        [("vision.flag_undo", analyst, str(i)) for i in flag_ids]


def test_dismissing_a_group_leaves_its_flags_dismissed(client, staff, group):
    group_id, _ = group
    signed_in(client, staff, "fraud_analyst")
    assert decide_group(client, group_id, "dismiss").status_code == 302
    assert statuses() == [FlagStatus.DISMISSED] * len(flags())
    again = decide_group(client, group_id, "dismiss")
    assert again.status_code == 409 and "no open flag left" in again.get_data(as_text=True)


def test_undo_is_refused_once_its_window_has_passed(client, staff, group):
    group_id, _ = group
    signed_in(client, staff, "fraud_analyst")
    clock.freeze(clock.now())
    decide_group(client, group_id)
    fields = undo_fields(client)

    clock.freeze(clock.now() + timedelta(seconds=UNDO_SECONDS + 1))
    late = client.post(f"{PAGE}undo", data=fields)

    assert late.status_code == 409 and "Too late to undo" in late.get_data(as_text=True)
    assert statuses() == [FlagStatus.CONFIRMED] * len(flags())
    assert 'data-testid="undo"' not in client.get(PAGE).get_data(as_text=True)


def test_only_the_analyst_who_decided_may_undo(app, client, staff, group):
    group_id, flag_ids = group
    signed_in(client, staff, "fraud_analyst")
    decide_group(client, group_id)
    other = app.test_client()
    signed_in(other, staff, "fraud_analyst")

    refused = other.post(f"{PAGE}undo", data={
        "csrf_token": page_token(other, PAGE), "flag_ids": ",".join(map(str, flag_ids)),
        "decision": "confirm"})

    assert refused.status_code == 409
    assert statuses() == [FlagStatus.CONFIRMED] * len(flags())


def test_group_decisions_and_undo_need_csrf_the_moderator_role_and_good_input(
        app, client, staff, group):
    group_id, flag_ids = group
    signed_in(client, staff, "fraud_analyst")
    assert client.post(f"{PAGE}group/{group_id}/confirm", data={}).status_code == 400
    assert client.post(f"{PAGE}undo", data={"flag_ids": str(flag_ids[0]),
                                            "decision": "confirm"}).status_code == 400
    token = page_token(client, PAGE)
    assert client.post(f"{PAGE}group/{group_id}/approve",
                       data={"csrf_token": token}).status_code == 422
    bad = client.post(f"{PAGE}undo", data={"csrf_token": token, "flag_ids": "1,x",
                                           "decision": "confirm"})
    assert bad.status_code == 422 and "Say which flags to reopen" in bad.get_data(as_text=True)
    viewer = app.test_client()
    signed_in(viewer, staff, "authenticator")          # sees flags, may not decide
    assert viewer.post(f"{PAGE}group/{group_id}/confirm",
                       data={"csrf_token": page_token(viewer, PAGE)}).status_code == 403
    assert statuses() == [FlagStatus.OPEN] * len(flags()) and audit_actions() == []
