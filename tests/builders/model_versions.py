"""Duplicate-model versions trained through the real path: the registry's service, the
commit, the RQ worker."""
from __future__ import annotations

from sqlalchemy import select

from foundation import db, jobs
from foundation.staff.models import StaffUser
from vision.modelops import services
from vision.modelops.models import ModelVersion, TrainingRun

# Five drawn products, five edits: 75 pairs, about half the photos held out. The signatures of a
# recipe are computed once per process, so later trainings of it take about a second.
SMALL = {"photos": 5, "side": 160, "seed": 7, "negatives_per_query": 2,
         "edits": ["jpeg_50", "crop_10", "rotate_4", "flip", "screenshot"],
         "epochs": 80}


def train_version(staff_id: int, **overrides) -> ModelVersion:
    """Train the SMALL recipe (with `overrides`) as `staff_id`; the version it produced."""
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
