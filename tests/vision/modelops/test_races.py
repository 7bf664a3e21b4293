"""Analysts promoting at the same moment on PostgreSQL: exactly one champion per kind."""
from __future__ import annotations

from sqlalchemy import select

from foundation import db
from foundation.staff.models import StaffUser
from tests.concurrency import all_at_once, postgresql_only
from tests.vision.modelops.support import audit_actions, train_version
from vision.modelops import services
from vision.modelops.models import ModelVersion

pytestmark = postgresql_only("promotion races need PostgreSQL's concurrent writers")
WORKERS = 4


def _champions() -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(ModelVersion.number).where(
            ModelVersion.status == "champion")))


def test_concurrent_promotions_leave_exactly_one_champion(app, staff):
    analyst = staff("fraud_analyst")[0]
    ids = [train_version(analyst).id for _ in range(WORKERS * 2)]

    def promote(batch: list[int]):
        def work(s, i):
            return services.promote(s, s.get(StaffUser, analyst), batch[i]).number
        return all_at_once(WORKERS, work)

    # First with no champion (the partial unique index decides), then replacing one
    # (the guarded UPDATE of the old champion decides).
    for batch in (ids[:WORKERS], ids[WORKERS:]):
        outcomes = promote(batch)
        winners = [o for o in outcomes if isinstance(o, int)]
        assert len(winners) == 1, outcomes
        assert set(outcomes) - set(winners) <= {"champion_exists", "stale_champion"}
        assert _champions() == winners
    assert audit_actions().count("vision.model.promote") == 2
