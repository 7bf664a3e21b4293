"""Shared set-up for the registry's tests: a small duplicate set and the real worker."""
from __future__ import annotations

from sqlalchemy import func, select

from foundation import db, jobs
from foundation.audit.models import AuditEvent
from foundation.staff.models import StaffUser
from vision.modelops import services
from vision.modelops.models import ModelVersion, TrainingRun

# Five drawn products, five edits: 75 pairs, about half the photos held out. The signatures of a
# recipe are computed once per process, so later trainings of it take about a second.
SMALL = {"photos": 5, "side": 160, "seed": 7, "negatives_per_query": 2,
         "edits": ["jpeg_50", "crop_10", "rotate_4", "flip", "screenshot"],
         "epochs": 80}


def train_version(staff_id: int, **overrides) -> ModelVersion:
    """Train through the real path: the service, the commit, the RQ worker."""
    with db.unit_of_work() as s:
        run = services.start_training(s, "duplicate", {**SMALL, **overrides},
                                      s.get(StaffUser, staff_id))
        run_id = run.id
    jobs.run_pending(["vision"])
    with db.unit_of_work() as s:
        version = s.scalar(select(ModelVersion).where(ModelVersion.training_run_id == run_id))
        assert version is not None, s.get(TrainingRun, run_id).error
        s.expunge(version)
        return version


def audit_actions(prefix: str = "vision.") -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)))


def count(model) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model))
