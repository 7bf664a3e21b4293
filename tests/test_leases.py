"""foundation.leases on a real queue table (authentication requests): claims, lapsed
leases taken over, extend, release, skip, the per-staff limit and stale tokens."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from authentication import machine
from authentication.models import AuthenticationRequest, RequestEvent, RequestSkip, RequestState
from foundation import clock, db
from foundation.audit.models import AuditEvent
from foundation.errors import Conflict
from foundation.leases import Leases, SkipTable, unclaimed
from foundation.staff.models import StaffUser
from tests.builders.cases import pending_listing
from tests.builders.members import register

R = AuthenticationRequest
LEASE_MINUTES = 10
SKIP_MINUTES = 30
ORDER = (R.id.asc(),)


def make_leases(*, max_claims: int = 2, skips: bool = True) -> Leases:
    return Leases(model=R, claimed_state=RequestState.CLAIMED, transition=machine.try_transition,
                  lease_minutes=lambda: LEASE_MINUTES, max_claims=lambda: max_claims,
                  audit_prefix="queue_test", object_type="authentication_request",
                  noun="item", skips=SkipTable(RequestSkip, minutes=lambda: SKIP_MINUTES)
                  if skips else None)


LEASES = make_leases()


@pytest.fixture
def request_ids(client) -> list[int]:
    """Three queued requests, oldest first."""
    owner = register(client)
    for _ in range(3):
        pending_listing(client, owner)
    with db.unit_of_work() as s:
        return list(s.scalars(select(R.id).order_by(R.id)))


@pytest.fixture
def reviewers(staff) -> list[int]:
    return [staff("authenticator")[0] for _ in range(2)]


@pytest.fixture
def start():
    moment = clock.now()
    clock.freeze(moment)
    return moment


def claim(staff_id: int, leases: Leases = LEASES, states=(RequestState.QUEUED,)):
    """Claim in a unit of work of its own, as a request would; (id, token) or None."""
    with db.unit_of_work() as s:
        row = leases.claim(s, s.get(StaffUser, staff_id), states, ordering=ORDER)
        return None if row is None else (row.id, row.lease_token)


def act(action, staff_id: int, request_id: int, token, **kwargs):
    with db.unit_of_work() as s:
        return action(s, s.get(StaffUser, staff_id), s.get(R, request_id), token, **kwargs)


def row(request_id: int) -> R:
    with db.unit_of_work() as s:
        return s.get(R, request_id)


def audit_actions(request_id: int) -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "authentication_request",
            AuditEvent.object_id == str(request_id)).order_by(AuditEvent.id)))


def event_reasons(request_id: int) -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(RequestEvent.reason).where(
            RequestEvent.request_id == request_id).order_by(RequestEvent.id)))


def assert_stale(action, *args, **kwargs) -> None:
    with pytest.raises(Conflict) as refused:
        act(action, *args, **kwargs)
    assert refused.value.code == "stale_lease"


# --- claiming -------------------------------------------------------------------------

def test_a_claim_takes_the_first_waiting_row_under_a_fresh_lease(request_ids, reviewers,
                                                                 start):
    first, second, _ = request_ids
    claimed_id, token = claim(reviewers[0])
    assert claimed_id == first
    held = row(first)
    assert (held.state, held.claimed_by, held.claimed_from, held.claimed_at) == \
        (RequestState.CLAIMED, reviewers[0], RequestState.QUEUED, start)
    assert held.lease_expires_at == start + timedelta(minutes=LEASE_MINUTES)
    assert held.lease_token == token and len(token) >= 32
    assert event_reasons(first)[-1] == "claimed"
    assert audit_actions(first) == ["queue_test.claim"]
    assert claim(reviewers[1])[0] == second            # the held row is not offered


def test_nothing_to_claim_is_none_and_writes_nothing(request_ids, reviewers):
    assert claim(reviewers[0], states=(RequestState.AWAITING_LEAD,)) is None
    assert all(audit_actions(request_id) == [] for request_id in request_ids)


def test_the_claim_limit_counts_live_leases_only(request_ids, reviewers, start):
    one = make_leases(max_claims=1)
    request_id, _ = claim(reviewers[0], one)
    with pytest.raises(Conflict) as refused:
        claim(reviewers[0], one)
    assert refused.value.code == "claim_limit"
    assert "You already hold 1 item(s)" in refused.value.message
    clock.freeze(start + timedelta(minutes=LEASE_MINUTES, seconds=1))
    # The lapsed lease no longer counts; waiting rows come before the lapsed one.
    assert claim(reviewers[0], one)[0] == request_ids[1]
    assert row(request_id).state == RequestState.CLAIMED


def test_a_lapsed_lease_is_taken_over_after_the_waiting_rows(request_ids, reviewers, start):
    first, second, third = request_ids
    _, old_token = claim(reviewers[0])
    clock.freeze(start + timedelta(minutes=LEASE_MINUTES))   # expiry is exclusive
    assert claim(reviewers[1])[0] == second
    assert claim(reviewers[1])[0] == third
    assert claim(reviewers[0])[0] == first                     # its own lapsed lease, anew
    assert claim(reviewers[1], make_leases(max_claims=3)) is None   # nothing lapsed now
    clock.freeze(start + timedelta(minutes=2 * LEASE_MINUTES))
    taken_id, new_token = claim(reviewers[1], make_leases(max_claims=3))
    assert taken_id == first and new_token != old_token
    assert event_reasons(first)[-1] == "claimed_after_lease_expired"
    held = row(first)
    assert (held.claimed_by, held.claimed_from) == (reviewers[1], RequestState.QUEUED)
    assert_stale(LEASES.extend, reviewers[0], first, old_token)


# --- the lease ------------------------------------------------------------------------

def test_extend_gives_a_full_lease_from_now_and_keeps_the_token(request_ids, reviewers,
                                                                 start):
    request_id, token = claim(reviewers[0])
    clock.freeze(start + timedelta(minutes=7))
    act(LEASES.extend, reviewers[0], request_id, token)
    held = row(request_id)
    assert held.lease_expires_at == start + timedelta(minutes=7 + LEASE_MINUTES)
    assert (held.lease_token, held.state) == (token, RequestState.CLAIMED)
    assert audit_actions(request_id) == ["queue_test.claim", "queue_test.extend"]


def test_release_goes_back_to_the_state_it_was_claimed_from(request_ids, reviewers):
    request_id = request_ids[0]
    with db.unit_of_work() as s:
        assert machine.try_transition(s, s.get(R, request_id), RequestState.ESCALATED,
                                      actor="system", reason="test")
    claimed_id, token = claim(reviewers[0], states=(RequestState.QUEUED, RequestState.ESCALATED))
    assert (claimed_id, row(claimed_id).claimed_from) == (request_id, RequestState.ESCALATED)
    act(LEASES.release, reviewers[0], request_id, token)
    released = row(request_id)
    assert released.state == RequestState.ESCALATED
    assert {name: getattr(released, name) for name in unclaimed()} == unclaimed()
    assert audit_actions(request_id)[-1] == "queue_test.release"
    assert_stale(LEASES.release, reviewers[0], request_id, token)   # not twice


def test_a_skip_keeps_the_row_away_from_that_reviewer_for_a_while(request_ids, reviewers,
                                                                  start):
    first = request_ids[0]
    _, token = claim(reviewers[0])
    act(LEASES.skip, reviewers[0], first, token)
    assert row(first).state == RequestState.QUEUED
    assert audit_actions(first)[-1] == "queue_test.skip"
    with db.unit_of_work() as s:
        staff = s.get(StaffUser, reviewers[0])
        shown = s.scalars(select(R.id).where(
            *LEASES.claimable(staff, (RequestState.QUEUED,), clock.now(), expired=None)))
        assert first not in set(shown)
    assert claim(reviewers[0])[0] != first
    assert claim(reviewers[1])[0] == first                      # others still get it
    clock.freeze(start + timedelta(minutes=SKIP_MINUTES))
    # Every lease has lapsed and the skip is over: after the one waiting row, the first
    # row is offered to the reviewer who skipped it again.
    roomy = make_leases(max_claims=3)
    assert claim(reviewers[0], roomy)[0] == request_ids[2]
    assert claim(reviewers[0], roomy)[0] == first


def test_a_queue_without_a_skip_table_refuses_to_skip_and_changes_nothing(request_ids,
                                                                          reviewers):
    plain = make_leases(skips=False)
    request_id, token = claim(reviewers[0], plain)
    with pytest.raises(TypeError):
        act(plain.skip, reviewers[0], request_id, token)
    assert row(request_id).state == RequestState.CLAIMED
    assert audit_actions(request_id) == ["queue_test.claim"]


@pytest.mark.parametrize("token", [None, "", "not-the-token", "tökén", 12345])
def test_a_wrong_token_is_stale_and_changes_nothing(request_ids, reviewers, token):
    request_id, _ = claim(reviewers[0])
    before = row(request_id)
    assert_stale(LEASES.extend, reviewers[0], request_id, token)
    assert_stale(LEASES.release, reviewers[0], request_id, token)
    after = row(request_id)
    assert (after.state, after.version, after.lease_expires_at) == \
        (before.state, before.version, before.lease_expires_at)


def test_a_move_under_the_lease_that_loses_says_why(request_ids, reviewers, start):
    """The holder's move matches no row: if their lease still holds, the row moved
    meanwhile (case_changed: reload); once the lease is gone, stale_lease (claim again)."""
    request_id, token = claim(reviewers[0])
    with db.unit_of_work() as s:
        holder = s.get(StaffUser, reviewers[0])
        held = s.get(R, request_id)
        # Another writer (the holder's other tab extending the lease) moves the row
        # after we read it: same token, a newer version.
        s.execute(update(R).where(R.id == request_id).values(version=R.version + 1)
                  .execution_options(synchronize_session=False))
        with pytest.raises(Conflict) as lost:
            LEASES.move(s, holder, held, token, RequestState.ESCALATED, reason="test")
        assert lost.value.code == "case_changed"
        assert held.state == RequestState.CLAIMED
    clock.freeze(start + timedelta(minutes=LEASE_MINUTES))
    with db.unit_of_work() as s:
        with pytest.raises(Conflict) as lapsed:
            LEASES.move(s, s.get(StaffUser, reviewers[0]), s.get(R, request_id), token,
                        RequestState.ESCALATED, reason="test")
        assert lapsed.value.code == "stale_lease"
    assert row(request_id).state == RequestState.CLAIMED
    assert "test" not in event_reasons(request_id)


def test_someone_elses_lease_is_stale_even_with_the_right_token(request_ids, reviewers):
    request_id, token = claim(reviewers[0])
    assert_stale(LEASES.release, reviewers[1], request_id, token)
    with db.unit_of_work() as s:
        held = s.get(R, request_id)
        assert LEASES.holds(held, s.get(StaffUser, reviewers[0]), token)
        assert not LEASES.holds(held, s.get(StaffUser, reviewers[1]))
        assert [r.id for r in LEASES.held_by(s, s.get(StaffUser, reviewers[0]))] == \
            [request_id]
        assert LEASES.held_by(s, s.get(StaffUser, reviewers[1])) == []
