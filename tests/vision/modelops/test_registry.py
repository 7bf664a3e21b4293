"""The analysts' loop on the real parts: the duplicate kind trained by the RQ worker on
drawn photos, the database's own rules, the audit trail."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from foundation import clock, db, jobs
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from tests.builders.model_versions import SMALL, train_version
from tests.builders.rows import count
from tests.vision.modelops.support import audit_actions
from vision.modelops import scoring, services, tasks
from vision.modelops.kinds import HeldOut, Trained, register_kind
from vision.modelops.models import (
    ModelVersion,
    ShadowScore,
    ThresholdSetting,
    TrainingRun,
)


class ProgressProbe:
    """A kind that looks at its own run's row from another connection half-way through
    training: what a console page polling the row would see."""
    name = "progress_probe"
    subject = "number"
    seen: list[tuple[str, int, int, str]] = []

    def default_params(self):
        return {"items": 40}

    def train(self, s, params, progress):
        progress(1, 2, "half-way")
        with db.SessionFactory() as other:
            run = other.scalar(select(TrainingRun).where(TrainingRun.kind == self.name)
                               .order_by(TrainingRun.id.desc()))
            self.seen.append((run.state, run.done, run.total, run.message))
        rng = np.random.default_rng(3)
        labels = (np.arange(params["items"]) % 2).tolist()
        scores = np.clip(np.array(labels) * 0.6 + rng.uniform(0, 0.4, len(labels)), 0, 1)
        return Trained(artifact=b"{}", params=params, data_snapshot={"items": len(labels)},
                       held_out=HeldOut(list(range(len(labels))), labels, scores.tolist()))

    def load(self, artifact):
        raise NotImplementedError("the probe never scores")


register_kind(ProgressProbe())


@pytest.fixture
def analyst(staff):
    return staff("fraud_analyst")[0]


def _staff(s, staff_id):
    return s.get(StaffUser, staff_id)


def test_training_runs_in_the_worker_and_leaves_an_evaluated_candidate(app, analyst):
    with db.unit_of_work() as s:
        run = services.start_training(s, "duplicate", SMALL, _staff(s, analyst))
        run_id = run.id
        assert run.state == "pending"
    assert jobs.queue("vision").count == 1
    jobs.run_pending(["vision"])
    with db.unit_of_work() as s:
        run = s.get(TrainingRun, run_id)
        version = s.scalar(select(ModelVersion).where(ModelVersion.training_run_id == run_id))
        assert run.state == "succeeded" and run.error is None
        assert run.done == run.total == SMALL["epochs"] and run.started_at <= run.finished_at
        assert (version.kind, version.number, version.status) == ("duplicate", 1, "candidate")
        assert version.created_by == analyst
        assert set(version.metrics["by_edit_type"]) == set(SMALL["edits"])
        held = version.held_out
        assert len(held["scores"]) == len(held["labels"]) == len(held["edit_types"]) \
            == version.data_snapshot["held_out_pairs"] > 20
        assert version.data_snapshot["pairs"] == 75
        # Edited copies against their own photo score far above other products.
        assert version.metrics["auc"] > 0.95
        assert sum(version.metrics["confusion"].values()) == len(held["scores"])
        losses = version.curves["train_loss"]
        assert len(losses) == SMALL["epochs"] and losses[-1] < losses[0] / 2
        artifact = json.loads(version.artifact)
        assert set(artifact["thresholds"]) == set(SMALL["edits"])
    assert audit_actions() == ["vision.training.start"]


def test_progress_is_committed_while_training_runs(app, analyst):
    ProgressProbe.seen.clear()
    with db.unit_of_work() as s:
        services.start_training(s, "progress_probe", {}, _staff(s, analyst))
    jobs.run_pending(["vision"])
    assert ProgressProbe.seen == [("running", 1, 2, "half-way")]


def test_a_failing_training_ends_failed_with_its_error_and_writes_no_version(app, analyst):
    with db.unit_of_work() as s:
        # Four photos, 90% held out: all four are, which only drawing the set finds out.
        run_id = services.start_training(s, "duplicate", {**SMALL, "photos": 4,
                                                          "held_out_fraction": 0.9},
                                         _staff(s, analyst)).id
    jobs.run_pending(["vision"])
    with db.unit_of_work() as s:
        run = s.get(TrainingRun, run_id)
        assert run.state == "failed" and run.finished_at is not None
        assert run.error == ("ValidationFailed: the held-out fraction leaves no photos on "
                             "one side")
    assert count(ModelVersion) == 0
    # A failed run no longer blocks the next one.
    assert train_version(analyst).number == 1


def test_a_job_delivered_twice_trains_once(app, analyst):
    version = train_version(analyst)
    assert tasks.run_training(version.training_run_id) is None
    assert count(ModelVersion) == 1


@pytest.mark.parametrize(("params", "field"), [
    ({"photoz": 3}, "photoz"), ({"photos": "six"}, "photos"), ({"edits": "flip"}, "edits"),
    ({"learning_rate": True}, "learning_rate"), ({"photos": 1000}, "photos"),
    ({"edits": ["flip", "sepia"]}, "edits"),
])
def test_bad_parameters_are_refused_before_anything_is_written(app, analyst, params, field):
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as s:
        services.start_training(s, "duplicate", params, _staff(s, analyst))
    assert raised.value.code == "bad_params" and field in raised.value.fields
    assert count(TrainingRun) == 0 and audit_actions() == []
    assert jobs.queue("vision").count == 0


def test_unknown_kinds_a_second_run_and_other_roles_are_refused(app, analyst, staff):
    with pytest.raises(NotFound), db.unit_of_work() as s:
        services.start_training(s, "horoscope", {}, _staff(s, analyst))
    with db.unit_of_work() as s:
        services.start_training(s, "duplicate", SMALL, _staff(s, analyst))
    with pytest.raises(Conflict) as raised, db.unit_of_work() as s:
        services.start_training(s, "duplicate", SMALL, _staff(s, analyst))
    assert raised.value.code == "training_in_progress"
    authenticator = staff("authenticator")[0]
    with pytest.raises(PermissionDenied), db.unit_of_work() as s:
        services.start_training(s, "progress_probe", {}, _staff(s, authenticator))
    assert count(TrainingRun) == 1


def _act(fn, staff_id, *args):
    with db.unit_of_work() as s:
        result = fn(s, _staff(s, staff_id), *args)
        return (result.number, result.status) if isinstance(result, ModelVersion) else result


def _statuses() -> dict[int, str]:
    with db.unit_of_work() as s:
        return dict(s.execute(select(ModelVersion.number, ModelVersion.status)).all())


def _refused(code, fn, staff_id, *args):
    with pytest.raises(Conflict) as raised:
        _act(fn, staff_id, *args)
    assert raised.value.code == code and raised.value.status == 409


def test_promote_shadow_and_rollback_follow_the_rules(app, analyst):
    v1, v2, v3 = (train_version(analyst, epochs=e) for e in (80, 20, 40))
    _refused("no_champion", services.start_shadow, analyst, v1.id)
    _refused("no_champion", services.rollback, analyst, "duplicate")
    assert _act(services.promote, analyst, v1.id) == (1, "champion")
    _refused("no_previous_champion", services.rollback, analyst, "duplicate")
    _refused("not_promotable", services.promote, analyst, v1.id)
    assert _act(services.start_shadow, analyst, v2.id) == (2, "shadow")
    _refused("shadow_exists", services.start_shadow, analyst, v3.id)
    _refused("not_in_shadow", services.stop_shadow, analyst, v3.id)
    assert _act(services.promote, analyst, v2.id) == (2, "champion")
    assert _statuses() == {1: "retired", 2: "champion", 3: "candidate"}
    _refused("not_promotable", services.promote, analyst, v1.id)
    assert _act(services.rollback, analyst, "duplicate") == (1, "champion")
    assert _statuses() == {1: "champion", 2: "retired", 3: "candidate"}
    _refused("no_previous_champion", services.rollback, analyst, "duplicate")
    assert audit_actions()[3:] == ["vision.model.promote", "vision.model.shadow_start",
                                   "vision.model.promote", "vision.model.rollback"]


def test_a_promotion_names_the_champion_it_replaces(app, analyst):
    v1, v2, v3 = (train_version(analyst, epochs=e) for e in (80, 20, 40))
    assert _act(services.promote, analyst, v1.id, None) == (1, "champion")
    # Another analyst saw no champion either: v1 got there first, so v2 is refused.
    _refused("stale_champion", services.promote, analyst, v2.id, None)
    _refused("stale_champion", services.promote, analyst, v2.id, v3.id)
    assert _statuses() == {1: "champion", 2: "candidate", 3: "candidate"}
    assert _act(services.promote, analyst, v2.id, str(v1.id)) == (2, "champion")
    with pytest.raises(ValidationFailed) as bad:
        _act(services.promote, analyst, v3.id, "v2")
    assert bad.value.code == "bad_replacing"
    assert audit_actions()[3:] == ["vision.model.promote", "vision.model.promote"]


def test_the_database_itself_holds_one_champion_and_one_shadow_per_kind(app, analyst):
    v1, v2 = train_version(analyst), train_version(analyst)
    _act(services.promote, analyst, v1.id)
    for status in ("champion", "shadow"):
        if status == "shadow":
            _act(services.start_shadow, analyst, v2.id)
            v2 = train_version(analyst)
        with pytest.raises(IntegrityError), db.unit_of_work() as s:
            s.execute(update(ModelVersion).where(ModelVersion.id == v2.id)
                      .values(status=status))


def test_shadow_scores_beside_the_champion_and_the_comparison_counts_both(app, analyst):
    champion = train_version(analyst, epochs=80)
    challenger = train_version(analyst, epochs=5)   # barely fitted: other probabilities
    _act(services.promote, analyst, champion.id)
    with db.unit_of_work() as s:
        held = s.get(ModelVersion, champion.id).held_out
        alone = scoring.score_subjects(s, "duplicate", held["subject_ids"][:6])
    assert count(ShadowScore) == 0
    _act(services.start_shadow, analyst, challenger.id)
    ids = held["subject_ids"]
    with db.unit_of_work() as s:
        scores = scoring.score_subjects(s, "duplicate", ids)
    assert {i: scores[i].value for i in ids[:6]} == {i: alone[i].value for i in ids[:6]}
    assert scores[ids[0]].value == pytest.approx(held["scores"][0])
    assert count(ShadowScore) == len(ids)
    with db.unit_of_work() as s:
        comparison = scoring.compare_shadow(s, challenger.id)
    mine = np.array([scores[i].value for i in ids])
    assert comparison.items == len(ids) and comparison.champion_label == "duplicate v1"
    assert comparison.champion_flags == int((mine >= 0.5).sum())
    assert comparison.only_champion + comparison.only_shadow == round(
        (1 - comparison.agreement) * len(ids))
    assert comparison.mean_abs_delta > 0.01
    assert sum(c for _, c in comparison.delta_histogram) == len(ids)


def test_scoring_needs_a_champion_and_plain_ids(app, analyst):
    with pytest.raises(Conflict), db.unit_of_work() as s:
        scoring.score_subjects(s, "duplicate", [1])
    with pytest.raises(ValidationFailed), db.unit_of_work() as s:
        scoring.score_subjects(s, "duplicate", ["1"])


def test_thresholds_are_chosen_on_held_out_items_and_kept_as_history(app, analyst):
    version = train_version(analyst)
    with db.unit_of_work() as s:
        preview = services.preview_threshold(s, version.id, 0.9)
    assert preview.threshold is not None and preview.precision >= 0.9
    assert preview.flags_per_day is None  # nothing scored yet
    assert count(ThresholdSetting) == 0
    first = _act(services.set_threshold, analyst, version.id, 0.9)
    second = _act(services.set_threshold, analyst, version.id, "1.0")
    rotate = _act(services.set_threshold, analyst, version.id, 0.8, "rotate_4")
    with db.unit_of_work() as s:
        assert services.current_threshold(s, "duplicate") == second.threshold
        assert services.current_threshold(s, "duplicate", "rotate_4") == rotate.threshold
        history = services.threshold_history(s, "duplicate")
        assert [h.target for h in history] == ["max recall at precision >= 0.8",
                                               "max recall at precision >= 1",
                                               "max recall at precision >= 0.9"]
        assert history[-1].threshold == first.threshold == preview.threshold
    assert audit_actions().count("vision.threshold.set") == 3


def test_bad_threshold_requests_are_refused_and_write_nothing(app, analyst):
    version = train_version(analyst)
    for target, edit_type, code in [("high", None, "bad_target"), (0, None, "bad_target"),
                                    (1.5, None, "bad_target"),
                                    (0.9, "crop_20", "unknown_edit_type")]:
        with pytest.raises(ValidationFailed) as raised:
            _act(services.set_threshold, analyst, version.id, target, edit_type)
        assert raised.value.code == code and raised.value.status == 422
    with pytest.raises(NotFound):
        _act(services.set_threshold, analyst, version.id + 1, 0.9)
    assert count(ThresholdSetting) == 0 and audit_actions() == ["vision.training.start"]


def test_a_run_the_worker_never_finished_is_failed_by_the_sweep(app, analyst):
    with db.unit_of_work() as s:
        run_id = services.start_training(s, "duplicate", SMALL, _staff(s, analyst)).id
    jobs.queue("vision").empty()                   # the job is lost
    assert tasks.sweep_stale_training_runs() == []
    clock.freeze(clock.now() + timedelta(hours=2))
    with db.unit_of_work():
        assert tasks.sweep_stale_training_runs() == [run_id]
    with db.unit_of_work() as s:
        run = s.get(TrainingRun, run_id)
        assert run.state == "failed" and "the worker stopped" in run.error
    assert train_version(analyst).number == 1      # the kind can be trained again


def test_a_shadow_that_cannot_score_never_costs_the_champions_answer(app, analyst):
    champion, challenger = train_version(analyst), train_version(analyst, epochs=5)
    _act(services.promote, analyst, champion.id)
    _act(services.start_shadow, analyst, challenger.id)
    with db.unit_of_work() as s:   # the challenger's artifact is damaged on disk
        s.execute(update(ModelVersion).where(ModelVersion.id == challenger.id).values(
            artifact=b'{"format": 1}', artifact_sha256="0" * 64))
    ids = champion.held_out["subject_ids"][:4]
    with db.unit_of_work() as s:
        scores = scoring.score_subjects(s, "duplicate", ids)
    assert [scores[i].value for i in ids] == pytest.approx(champion.held_out["scores"][:4])
    assert count(ShadowScore) == 0
    with pytest.raises(ValidationFailed) as raised:
        services.kind_named("duplicate").load(b"not json")
    assert raised.value.code == "bad_artifact"
