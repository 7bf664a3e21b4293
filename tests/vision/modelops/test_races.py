"""Analysts promoting at the same moment on PostgreSQL: exactly one champion per kind."""
from __future__ import annotations

from sqlalchemy import select

from foundation import db
from foundation.staff.models import StaffUser
from tests.builders.model_versions import train_version
from tests.concurrency import all_at_once, postgresql_only
from tests.vision.modelops.support import audit_actions
from vision.modelops import services
from vision.modelops.models import ModelVersion

pytestmark = postgresql_only("promotion races need PostgreSQL's concurrent writers")
WORKERS = 4


def _champions() -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(ModelVersion.number).where(
            ModelVersion.status == "champion")))


def _champion_id() -> int:
    with db.unit_of_work() as s:
        return s.scalars(select(ModelVersion.id).where(
            ModelVersion.status == "champion")).one()


def test_concurrent_promotions_leave_exactly_one_champion(app, staff):
    analyst = staff("fraud_analyst")[0]
    ids = [train_version(analyst).id for _ in range(WORKERS * 2)]

    def promote(batch: list[int], replacing: int | None):
        def work(s, i):
            return services.promote(s, s.get(StaffUser, analyst), batch[i], replacing).number
        return all_at_once(WORKERS, work)

    # Every analyst saw the same champion. First none (the partial unique index decides
    # between transactions that overlap; a later one sees the winner and is stale), then
    # the first batch's winner (the guarded UPDATE of the old champion decides).
    seen = None
    for batch in (ids[:WORKERS], ids[WORKERS:]):
        outcomes = promote(batch, seen)
        winners = [o for o in outcomes if isinstance(o, int)]
        assert len(winners) == 1, outcomes
        assert set(outcomes) - set(winners) <= {"champion_exists", "stale_champion"}
        assert _champions() == winners
        seen = _champion_id()
    assert audit_actions().count("vision.model.promote") == 2
