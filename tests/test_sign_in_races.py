"""Parallel wrong guesses at one staff account: every failure is counted (an atomic
increment in the database), and the lockout comes after exactly LOGIN_MAX_FAILURES."""
from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from foundation import db
from foundation.audit.models import AuditEvent
from foundation.staff import services
from foundation.staff.models import StaffUser
from tests.concurrency import results_in_threads

GUESSES = 20


def guess(settings, email: str) -> str:
    with db.unit_of_work() as s:
        return services.sign_in(s, settings, email, "not-the-password").error


def account(staff_id: int) -> StaffUser:
    s = db.session()
    try:
        return s.get(StaffUser, staff_id)
    finally:
        db.session.remove()


def failures_audited(staff_id: int) -> int:
    s = db.session()
    try:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "staff.sign_in_failed",
            AuditEvent.object_id == str(staff_id)))
    finally:
        db.session.remove()


def test_parallel_wrong_guesses_are_each_counted(app, settings, staff):
    roomy = dataclasses.replace(settings, LOGIN_MAX_FAILURES=GUESSES + 1)
    staff_id, email, _ = staff("support_agent")
    reasons = results_in_threads([lambda: guess(roomy, email) for _ in range(GUESSES)])
    assert reasons == ["bad_credentials"] * GUESSES
    assert account(staff_id).failed_logins == GUESSES
    assert account(staff_id).locked_until is None
    assert failures_audited(staff_id) == GUESSES


def test_parallel_wrong_guesses_lock_the_account_after_the_limit(app, settings, staff):
    strict = dataclasses.replace(settings, LOGIN_MAX_FAILURES=GUESSES // 2)
    staff_id, email, _ = staff("support_agent")
    reasons = results_in_threads([lambda: guess(strict, email) for _ in range(GUESSES)])
    locked = account(staff_id)
    assert locked.locked_until is not None
    # Every guess checked against the password is counted; each LOGIN_MAX_FAILURES-th
    # locks the account and starts the count again; guesses that find it locked are
    # refused as such.
    counted = reasons.count("bad_credentials")
    assert counted >= GUESSES // 2
    assert counted + reasons.count("locked") == GUESSES
    assert locked.failed_logins == counted % (GUESSES // 2)
