"""foundation.casework as both review queues use it: queue access answers the same codes
in authentication and disputes, and the SLA clock runs only in active time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from authentication import claims as authentication_claims
from authentication import machine as authentication_machine
from disputes import claims as dispute_claims
from disputes import machine as dispute_machine
from foundation import db
from foundation.errors import NotFound, PermissionDenied
from foundation.staff.models import StaffUser

QUEUE_ACCESS = [authentication_claims.require_queue_access,
                dispute_claims.require_queue_access]


@pytest.mark.parametrize("require_queue_access", QUEUE_ACCESS)
def test_an_unknown_queue_is_queue_not_found_in_every_package(staff, require_queue_access):
    admin_id = staff("admin")[0]
    with db.unit_of_work() as s:
        with pytest.raises(NotFound) as refused:
            require_queue_access(s.get(StaffUser, admin_id), "nope")
    assert refused.value.code == "queue_not_found"
    assert "queues are review, " in refused.value.message


@pytest.mark.parametrize(("require_queue_access", "role", "queue"), [
    (authentication_claims.require_queue_access, "authenticator", "lead"),
    (dispute_claims.require_queue_access, "support_agent", "approval"),
    (authentication_claims.require_queue_access, "support_agent", "review"),
    (dispute_claims.require_queue_access, "authenticator", "review"),
])
def test_a_role_that_may_not_work_a_queue_is_refused(staff, require_queue_access, role, queue):
    staff_id = staff(role)[0]
    with db.unit_of_work() as s:
        with pytest.raises(PermissionDenied) as refused:
            require_queue_access(s.get(StaffUser, staff_id), queue)
    assert refused.value.code == "wrong_role"


@pytest.mark.parametrize("casework", [authentication_machine.CASEWORK,
                                      dispute_machine.CASEWORK])
def test_the_sla_clock_counts_active_time_only(app, casework):
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    budget = casework.sla_budget()
    row = SimpleNamespace(state="open", **casework.clock_started(start))
    assert casework.seconds_left(row, start + timedelta(hours=1)) == \
        budget.total_seconds() - 3600
    # Paused for a day after two hours: the day does not count.
    vars(row).update(casework.clock_paused(row, start + timedelta(hours=2)))
    resumed_at = start + timedelta(days=1, hours=2)
    vars(row).update(casework.clock_resumed(row, resumed_at))
    assert row.sla_due_at == resumed_at + budget - timedelta(hours=2)
    assert casework.seconds_left(row, resumed_at + timedelta(hours=1)) == \
        budget.total_seconds() - 3 * 3600
    row.state = casework.closed_states[0]
    assert casework.seconds_left(row, resumed_at) is None
