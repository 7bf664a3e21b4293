"""Needs-more-photos (SLA paused, requeue at the front, the no-upload deadline) and SLA
breaches flagged by the periodic sweep."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from authentication.tasks import sweep_authentication_sla
from foundation import clock, db, jobs
from foundation.audit.models import AuditEvent
from tests.authentication.support import Reviewer, listing_row, request_for
from tests.builders.cases import pending_listing
from tests.builders.listings import upload_photo
from tests.builders.members import register


def breach_audits(request_id: int) -> int:
    s = db.session()
    try:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "authentication.sla_breached",
            AuditEvent.object_id == str(request_id), AuditEvent.actor_id.is_(None)))
    finally:
        db.session.remove()


def test_photo_request_pauses_the_clock_and_an_upload_requeues_at_the_front(
        client, staff):
    owner = register(client)
    start = datetime.now(UTC).replace(microsecond=0)
    clock.freeze(start)
    asked = pending_listing(client, owner)
    clock.freeze(start + timedelta(minutes=1))
    waiting = pending_listing(client, owner)
    reviewer = Reviewer(client, staff, "authenticator")
    clock.freeze(start + timedelta(hours=2))
    claim = reviewer.claimed()
    assert claim["request"]["listing_id"] == asked["id"]
    response = reviewer.decide(claim, "needs_more_photos", reason="detail_missing",
                               angles=["serial_date_code", "logo"])
    assert response.status_code == 200, response.json
    body = response.json["request"]
    assert body["state"] == "awaiting_photos"
    assert body["requested_angles"] == ["serial_date_code", "logo"]
    assert body["sla_paused"] is True
    left_when_paused = body["sla_seconds_left"]
    assert left_when_paused == 22 * 3600
    assert reviewer.claimed()["request"]["listing_id"] == waiting["id"]  # not the asked one

    clock.freeze(start + timedelta(hours=10))  # eight paused hours do not count
    assert request_for(asked["id"]).state == "awaiting_photos"
    assert upload_photo(client, owner, asked["id"], seed=77).status_code == 201
    requeued = request_for(asked["id"])
    assert requeued.state == "queued"
    assert requeued.sla_due_at == start + timedelta(hours=10 + 22)
    assert requeued.photos_due_at is None
    other = Reviewer(client, staff, "authenticator")
    pending_listing(client, owner)  # a newer item, and `waiting` is held by `reviewer`
    assert other.claimed()["request"]["listing_id"] == asked["id"]  # front of the queue


def test_no_upload_before_the_deadline_rejects_and_removes_the_listing(client, staff):
    owner = register(client)
    past = (datetime.now(UTC) - timedelta(hours=80)).replace(microsecond=0)
    clock.freeze(past)
    listing = pending_listing(client, owner)
    reviewer = Reviewer(client, staff, "authenticator")
    reviewer.decide(reviewer.claimed(), "needs_more_photos", reason="photos_unclear",
                    angles=["hardware"])
    clock.freeze(past + timedelta(hours=71))
    # The timer is due in real time but, by our clock, an hour early: it does nothing.
    sweep_authentication_sla.enqueue_now()
    jobs.run_pending()
    assert request_for(listing["id"]).state == "awaiting_photos"
    clock.freeze(None)  # 80 hours on: the sweep makes up for the spent timer
    sweep_authentication_sla.enqueue_now()
    jobs.run_pending()
    request = request_for(listing["id"])
    assert request.state == "closed_rejected"
    removed = listing_row(listing["id"])
    assert (removed.status, removed.removed_reason) == ("removed", "no_photos_provided")


def test_the_sweep_flags_an_sla_breach_once_and_raises_priority(client, staff):
    owner = register(client)
    start = datetime.now(UTC).replace(microsecond=0)
    clock.freeze(start)
    late = pending_listing(client, owner)
    clock.freeze(start + timedelta(hours=2))
    on_time = pending_listing(client, owner, price_paise=9_000_000)
    clock.freeze(start + timedelta(hours=23))
    sweep_authentication_sla.enqueue_now()
    jobs.run_pending()
    assert request_for(late["id"]).sla_breached_at is None

    clock.freeze(start + timedelta(hours=24, minutes=1))
    for _ in range(2):
        sweep_authentication_sla.enqueue_now()
        jobs.run_pending()
    breached = request_for(late["id"])
    assert breached.sla_breached_at == start + timedelta(hours=24, minutes=1)
    assert breached.priority == 2
    assert breach_audits(breached.id) == 1
    assert request_for(on_time["id"]).sla_breached_at is None
    reviewer = Reviewer(client, staff, "authenticator")
    queue = reviewer.queue().json["items"]
    assert [item["listing_id"] for item in queue] == [late["id"], on_time["id"]]
    assert queue[0]["sla_breached"] is True and queue[0]["sla_seconds_left"] == -60


def test_a_paused_clock_is_not_breached(client, staff):
    owner = register(client)
    start = datetime.now(UTC).replace(microsecond=0)
    clock.freeze(start)
    listing = pending_listing(client, owner)
    reviewer = Reviewer(client, staff, "authenticator")
    reviewer.decide(reviewer.claimed(), "needs_more_photos", reason="photos_unclear",
                    angles=["lining"])
    clock.freeze(start + timedelta(hours=30))
    sweep_authentication_sla.enqueue_now()
    jobs.run_pending()
    assert request_for(listing["id"]).sla_breached_at is None


def test_the_deadline_timer_itself_rejects(client, staff):
    owner = register(client)
    past = (datetime.now(UTC) - timedelta(hours=80)).replace(microsecond=0)
    clock.freeze(past)
    listing = pending_listing(client, owner)
    reviewer = Reviewer(client, staff, "authenticator")
    reviewer.decide(reviewer.claimed(), "needs_more_photos", reason="photos_unclear",
                    angles=["hardware"])
    clock.freeze(None)
    jobs.run_pending()
    assert request_for(listing["id"]).state == "closed_rejected"
    assert listing_row(listing["id"]).removed_reason == "no_photos_provided"
