"""The analysts' loop: train a version, evaluate it, choose its threshold, run it in shadow
beside the champion, promote it, roll back. Every staff action is audited in the caller's
unit of work; services flush and never commit (the training job's progress is the one
exception, written through its own short session so the console sees it while training).

    run = start_training(s, "duplicate", {"photos": 8}, analyst)   # job after commit
    choice = preview_threshold(s, version_id, 0.95)                # nothing written
    set_threshold(s, analyst, version_id, 0.95)
    start_shadow(s, analyst, version_id); stop_shadow(...)
    promote(s, analyst, version_id); rollback(s, analyst, "duplicate")
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import clock, db, jobs
from foundation.audit.services import record
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from foundation.transitions import claim_pending_run
from vision.modelops import evaluation
from vision.modelops.kinds import KINDS, ModelKind, Progress, Trained, get_kind
from vision.modelops.models import (
    ModelVersion,
    RunState,
    ShadowScore,
    ThresholdSetting,
    TrainingRun,
    VersionStatus,
)

# Named, not imported: vision.modelops.tasks imports this module.
RUN_TRAINING = jobs.named("vision.modelops.tasks.run_training")

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5          # calibrated even odds, until an analyst chooses one
RECENT_VOLUME_DAYS = 7           # the scored volume behind "expected flags a day"
MAX_ERROR_CHARS = 2000
PROMOTABLE = (VersionStatus.CANDIDATE.value, VersionStatus.SHADOW.value)
OBJECT = "vision_model_version"


def load_kinds() -> dict[str, ModelKind]:
    """The registered kinds (the composition root registers ours)."""
    return dict(KINDS)


def kind_named(name: Any) -> ModelKind:
    try:
        return get_kind(str(name))
    except LookupError as exc:
        raise NotFound(str(exc), code="unknown_kind") from exc


def _require_manager(by: StaffUser | None) -> None:
    if by is None or not by.can(Permission.VISION_MANAGE_MODELS):
        raise PermissionDenied("Managing models needs the vision.manage_models permission.")


# --- training -----------------------------------------------------------------------------

def start_training(s: Session, kind_name: str, params: Any, by: StaffUser) -> TrainingRun:
    """A pending run of `kind_name` with these parameters (over the kind's defaults);
    the training job is enqueued once the caller commits."""
    _require_manager(by)
    kind = kind_named(kind_name)
    merged = checked_params(kind, params)
    busy = s.scalar(select(TrainingRun.id).where(
        TrainingRun.kind == kind.name,
        TrainingRun.state.in_((RunState.PENDING.value, RunState.RUNNING.value))).limit(1))
    if busy is not None:
        raise Conflict(f"Training run {busy} of {kind.name} has not finished yet.",
                       code="training_in_progress")
    run = TrainingRun(kind=kind.name, params=merged, requested_by=by.id,
                      message="waiting for a worker")
    s.add(run)
    s.flush()
    record(s, by, "vision.training.start", "vision_training_run", run.id,
           after={"kind": kind.name, "params": merged})
    RUN_TRAINING.enqueue(run.id)
    return run


def checked_params(kind: ModelKind, params: Any) -> dict[str, Any]:
    """The kind's defaults overlaid with `params`, each of the same JSON type as its
    default; the kind checks ranges itself when it trains."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationFailed("The parameters must be a JSON object.", code="bad_params")
    defaults = kind.default_params()
    errors = {}
    for name, value in params.items():
        if name not in defaults:
            errors[str(name)] = f"not a parameter of {kind.name}"
        elif not _same_json_type(defaults[name], value):
            errors[name] = f"must be {_json_type_name(defaults[name])}"
    if errors:
        raise ValidationFailed("The training parameters are not valid.", code="bad_params",
                               fields=errors)
    merged = {**defaults, **params}
    # Optional beyond the contract: a kind that can check ranges up front spares the
    # analyst a queued run that fails at once.
    check = getattr(kind, "check_params", None)
    return check(merged) if check else merged


def _same_json_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _json_type_name(default: Any) -> str:
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text",
            list: "a list", dict: "an object"}.get(type(default), type(default).__name__)


def progress_writer(run_id: int) -> Progress:
    """A progress callback that commits each step to the run's row through its own short
    session, so the console sees it while the job's own transaction is still open."""
    def write(done: int, total: int, message: str) -> None:
        _update_run_now(run_id, done=int(done), total=int(total), message=str(message)[:200])
    return write


def _both(first: Progress, second: Progress) -> Progress:
    def report(done: int, total: int, message: str) -> None:
        first(done, total, message)
        second(done, total, message)
    return report


def _update_run_now(run_id: int, **values: Any) -> None:
    with db.SessionFactory() as side:
        side.execute(update(TrainingRun).where(TrainingRun.id == run_id).values(**values))
        side.commit()


def claim_run(s: Session, run_id: int) -> TrainingRun | None:
    """Move a pending run to running (committed at once); None when it is not pending."""
    return claim_pending_run(s, TrainingRun, run_id)


def train_run(s: Session, run_id: int, also_report: Progress | None = None
              ) -> ModelVersion | None:
    """The training job's body: the run ends succeeded with a candidate version and its
    evaluation, or failed with the error and nothing else written. `also_report` gets
    the progress too (the CLI's progress bar)."""
    run = claim_run(s, run_id)
    if run is None:
        return None
    progress = progress_writer(run.id)
    if also_report is not None:
        progress = _both(progress, also_report)
    try:
        kind = kind_named(run.kind)
        trained = kind.train(s, dict(run.params), progress)
        version = record_version(s, run, trained)
    except Exception as exc:  # noqa: BLE001 - any failure of a kind ends the run, visibly
        log.exception("training run %s failed", run_id)
        s.rollback()
        fail_run(s, run_id, exc)
        return None
    s.refresh(run)  # the progress the side sessions committed
    run.state = RunState.SUCCEEDED.value
    run.finished_at = clock.now()
    run.message = f"{version.label} is a candidate"
    run.done = run.total = max(run.total, 1)
    s.flush()
    return version


def fail_stale_runs(s: Session, older_than: timedelta) -> list[int]:
    """Runs still pending or running long after their job's hard timeout: the worker died
    or the job was lost. They are failed, so the kind can be trained again."""
    cutoff = clock.now() - older_than
    stale = list(s.scalars(select(TrainingRun).where(
        TrainingRun.state.in_((RunState.PENDING.value, RunState.RUNNING.value)),
        TrainingRun.created_at < cutoff)))
    for run in stale:
        run.state = RunState.FAILED.value
        run.error = (f"no result after {older_than}: the worker stopped or the job was "
                     f"lost; train again")
        run.message = "failed"
        run.finished_at = clock.now()
    s.flush()
    return [run.id for run in stale]


def fail_run(s: Session, run_id: int, exc: BaseException) -> None:
    run = s.get(TrainingRun, run_id)
    s.refresh(run)
    detail = exc.message if hasattr(exc, "message") else str(exc)
    fields = getattr(exc, "fields", None)
    if fields:
        detail += " " + "; ".join(f"{k}: {v}" for k, v in fields.items())
    run.state = RunState.FAILED.value
    run.error = f"{type(exc).__name__}: {detail}"[:MAX_ERROR_CHARS]
    run.message = "failed"
    run.finished_at = clock.now()
    s.flush()


def record_version(s: Session, run: TrainingRun, trained: Trained) -> ModelVersion:
    """The candidate version of a finished run, with its evaluation on the held-out items."""
    held = trained.held_out
    if not isinstance(trained.artifact, bytes) or not trained.artifact:
        raise ValidationFailed("the kind returned no artifact", code="bad_training_result")
    edit_types = trained.data_snapshot.get("held_out_edit_types")
    if edit_types is not None and len(edit_types) != len(held.scores):
        raise ValidationFailed("held_out_edit_types must name one edit per held-out item",
                               code="bad_training_result")
    number = (s.scalar(select(func.max(ModelVersion.number))
                       .where(ModelVersion.kind == run.kind)) or 0) + 1
    threshold = current_threshold(s, run.kind)
    version = ModelVersion(
        kind=run.kind, number=number, status=VersionStatus.CANDIDATE.value,
        params=trained.params, data_snapshot=_without(trained.data_snapshot,
                                                      "held_out_edit_types"),
        metrics=evaluate_held_out(held.scores, held.labels, edit_types, threshold),
        held_out={"subject_ids": list(held.subject_ids), "labels": list(held.labels),
                  "scores": [float(v) for v in held.scores], "edit_types": edit_types},
        curves={name: [float(v) for v in values] for name, values in trained.curves.items()},
        artifact=trained.artifact,
        artifact_sha256=hashlib.sha256(trained.artifact).hexdigest(),
        training_run_id=run.id, created_by=run.requested_by)
    s.add(version)
    s.flush()
    return version


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


def evaluate_held_out(scores: list[float], labels: list[int], edit_types: list[str] | None,
                      threshold: float) -> dict:
    metrics = evaluation.evaluate(scores, labels, threshold)
    if edit_types:
        groups = np.array(edit_types)
        s, y = np.asarray(scores), np.asarray(labels)
        metrics["by_edit_type"] = {
            edit: evaluation.evaluate(s[groups == edit], y[groups == edit], threshold)
            for edit in sorted(set(edit_types))}
    return metrics


# --- reading ------------------------------------------------------------------------------

def get_version(s: Session, version_id: Any) -> ModelVersion:
    version = s.get(ModelVersion, _id(version_id))
    if version is None:
        raise NotFound(f"Model version {version_id} does not exist.", code="unknown_version")
    return version


def get_run(s: Session, run_id: Any) -> TrainingRun:
    run = s.get(TrainingRun, _id(run_id))
    if run is None:
        raise NotFound(f"Training run {run_id} does not exist.", code="unknown_run")
    return run


def _id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{value!r} is not an id", code="bad_id") from exc


def versions(s: Session, kind: str | None = None) -> list[ModelVersion]:
    query = select(ModelVersion).order_by(ModelVersion.kind, ModelVersion.number.desc())
    if kind:
        query = query.where(ModelVersion.kind == kind)
    return list(s.scalars(query))


def recent_runs(s: Session, limit: int = 20) -> list[TrainingRun]:
    return list(s.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit)))


def champion(s: Session, kind: str) -> ModelVersion | None:
    return s.scalar(select(ModelVersion).where(
        ModelVersion.kind == kind, ModelVersion.status == VersionStatus.CHAMPION.value))


def shadow(s: Session, kind: str) -> ModelVersion | None:
    return s.scalar(select(ModelVersion).where(
        ModelVersion.kind == kind, ModelVersion.status == VersionStatus.SHADOW.value))


# --- thresholds ---------------------------------------------------------------------------

def latest_threshold(s: Session, kind: str, edit_type: str | None = None
                     ) -> ThresholdSetting | None:
    edit = (ThresholdSetting.edit_type.is_(None) if edit_type is None
            else ThresholdSetting.edit_type == edit_type)
    return s.scalar(select(ThresholdSetting).where(ThresholdSetting.kind == kind, edit)
                    .order_by(ThresholdSetting.id.desc()).limit(1))


def current_threshold(s: Session, kind: str, edit_type: str | None = None,
                      default: float = DEFAULT_THRESHOLD) -> float:
    """The kind's (or edit type's) newest chosen threshold; `default` before any."""
    setting = latest_threshold(s, kind, edit_type)
    return setting.threshold if setting else default


def threshold_of_version(s: Session, version: ModelVersion,
                         default: float = DEFAULT_THRESHOLD) -> float:
    """The threshold chosen on this version's own held-out items, else the kind's, else
    `default` (a kind that acts on scores passes its own configured one)."""
    own = s.scalar(select(ThresholdSetting.threshold).where(
        ThresholdSetting.version_id == version.id, ThresholdSetting.edit_type.is_(None))
        .order_by(ThresholdSetting.id.desc()).limit(1))
    return own if own is not None else current_threshold(s, version.kind, default=default)


def threshold_history(s: Session, kind: str, limit: int = 50) -> list[ThresholdSetting]:
    return list(s.scalars(select(ThresholdSetting).where(ThresholdSetting.kind == kind)
                          .order_by(ThresholdSetting.id.desc()).limit(limit)))


def recent_champion_scores(s: Session, kind: str) -> list[float]:
    """What the kind's champions scored over the last RECENT_VOLUME_DAYS (recorded beside
    each shadow score): the volume a new threshold would have flagged."""
    since = clock.now() - timedelta(days=RECENT_VOLUME_DAYS)
    return list(s.scalars(
        select(ShadowScore.champion_score)
        .join(ModelVersion, ModelVersion.id == ShadowScore.champion_version_id)
        .where(ModelVersion.kind == kind, ShadowScore.scored_at >= since,
               ShadowScore.champion_score.is_not(None))))


def preview_threshold(s: Session, version_id: Any, target_precision: Any,
                      edit_type: str | None = None) -> evaluation.ThresholdChoice:
    """The threshold of most recall at the target precision on the version's held-out
    items (of one edit type, or all), with the flags a day on recent volume."""
    version = get_version(s, version_id)
    scores, labels = held_out_of(version, edit_type)
    recent = None if edit_type else recent_champion_scores(s, version.kind)
    return evaluation.choose_threshold(
        scores, labels, _precision(target_precision),
        recent_scores=recent or None, recent_days=RECENT_VOLUME_DAYS if recent else None)


def held_out_of(version: ModelVersion, edit_type: str | None) -> tuple[list, list]:
    held = version.held_out
    if edit_type is None:
        return held["scores"], held["labels"]
    edit_types = held.get("edit_types") or []
    if edit_type not in edit_types:
        raise ValidationFailed(f"{version.label} has no held-out items of edit type "
                               f"{edit_type!r}", code="unknown_edit_type",
                               fields={"edit_type": "not an edit type of this version"})
    rows = [i for i, e in enumerate(edit_types) if e == edit_type]
    return [held["scores"][i] for i in rows], [held["labels"][i] for i in rows]


def _precision(value: Any) -> float:
    try:
        precision = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("The target precision must be a number.", code="bad_target",
                               fields={"target_precision": "a number above 0, at most 1"}
                               ) from exc
    if not 0.0 < precision <= 1.0:
        raise ValidationFailed("The target precision must be above 0 and at most 1.",
                               code="bad_target",
                               fields={"target_precision": "a number above 0, at most 1"})
    return precision


def set_threshold(s: Session, by: StaffUser, version_id: Any, target_precision: Any,
                  edit_type: str | None = None) -> ThresholdSetting:
    """Save the previewed threshold as the kind's (or the edit type's) current one: a new
    row, the history kept; refused when no threshold reaches the target."""
    _require_manager(by)
    version = get_version(s, version_id)
    choice = preview_threshold(s, version.id, target_precision, edit_type)
    if choice.threshold is None:
        raise ValidationFailed(f"No threshold to save: {choice.reason}.", code="no_threshold",
                               fields={"target_precision": choice.reason})
    before = latest_threshold(s, version.kind, edit_type)
    setting = ThresholdSetting(
        kind=version.kind, edit_type=edit_type, version_id=version.id,
        threshold=choice.threshold, target=f"max recall at precision >= "
                                           f"{_precision(target_precision):g}",
        target_precision=_precision(target_precision), precision=choice.precision,
        recall=choice.recall, expected_flags_per_day=choice.flags_per_day, set_by=by.id)
    s.add(setting)
    s.flush()
    record(s, by, "vision.threshold.set", "vision_threshold_setting", setting.id,
           before={"threshold": before.threshold} if before else None,
           after={"kind": version.kind, "edit_type": edit_type, "version": version.label,
                  "threshold": setting.threshold, "target": setting.target,
                  "expected_flags_per_day": setting.expected_flags_per_day})
    return setting


# --- shadow, promote, rollback ------------------------------------------------------------

def start_shadow(s: Session, by: StaffUser, version_id: Any) -> ModelVersion:
    """A candidate scores beside the champion from now on (score_subjects records both)."""
    _require_manager(by)
    version = get_version(s, version_id)
    if champion(s, version.kind) is None:
        raise Conflict(f"{version.kind} has no champion to shadow yet: promote one first.",
                       code="no_champion")
    running = shadow(s, version.kind)
    if running is not None:
        raise Conflict(f"{running.label} is already in shadow; stop it first.",
                       code="shadow_exists")
    _move(s, version, VersionStatus.CANDIDATE, VersionStatus.SHADOW, "not_a_candidate")
    record(s, by, "vision.model.shadow_start", OBJECT, version.id,
           before={"status": "candidate"}, after={"status": "shadow"})
    return version


def stop_shadow(s: Session, by: StaffUser, version_id: Any) -> ModelVersion:
    _require_manager(by)
    version = get_version(s, version_id)
    _move(s, version, VersionStatus.SHADOW, VersionStatus.CANDIDATE, "not_in_shadow")
    record(s, by, "vision.model.shadow_stop", OBJECT, version.id,
           before={"status": "shadow"}, after={"status": "candidate"})
    return version


ANY_CHAMPION = object()


def promote(s: Session, by: StaffUser, version_id: Any,
            replacing: Any = ANY_CHAMPION) -> ModelVersion:
    """The version becomes its kind's champion; the champion it replaces is retired and
    remembered, so that a rollback can bring it back.

    replacing is the champion the analyst saw (its id, or None for none): when another
    promotion got there first, this one is refused rather than silently replacing a
    champion nobody looked at."""
    _require_manager(by)
    version = get_version(s, version_id)
    if version.status not in PROMOTABLE:
        raise Conflict(f"{version.label} is {version.status}: only a candidate or a shadow "
                       f"can be promoted.", code="not_promotable")
    old = champion(s, version.kind)
    _require_expected_champion(old, replacing)
    now = clock.now()
    if old is not None:
        _move(s, old, VersionStatus.CHAMPION, VersionStatus.RETIRED, "stale_champion",
              retired_at=now)
    _move(s, version, VersionStatus(version.status), VersionStatus.CHAMPION, "stale_version",
          promoted_at=now, retired_at=None, replaced_version_id=old.id if old else None)
    record(s, by, "vision.model.promote", OBJECT, version.id,
           before={"champion": old.label if old else None},
           after={"champion": version.label})
    _champion_changed(s, version.kind)
    return version


def _require_expected_champion(current: ModelVersion | None, replacing: Any) -> None:
    if replacing is ANY_CHAMPION:
        return
    expected = _expected_champion_id(replacing)
    if (current.id if current else None) != expected:
        now_label = current.label if current else "none"
        raise Conflict(f"The champion changed while you were looking: it is now {now_label}. "
                       f"Look again before promoting.", code="stale_champion")


def _expected_champion_id(replacing: Any) -> int | None:
    if replacing is None or replacing == "" or replacing == "none":
        return None
    if isinstance(replacing, bool):
        replacing = "bad"
    try:
        return int(replacing)
    except (TypeError, ValueError):
        raise ValidationFailed("replacing must be the id of the champion you saw, or none.",
                               code="bad_replacing",
                               fields={"replacing": "a champion's id, or none"}) from None


def rollback(s: Session, by: StaffUser, kind_name: str) -> ModelVersion:
    """The champion is retired and the one it replaced is champion again."""
    _require_manager(by)
    kind = kind_named(kind_name)
    current = champion(s, kind.name)
    if current is None:
        raise Conflict(f"{kind.name} has no champion to roll back.", code="no_champion")
    if current.replaced_version_id is None:
        raise Conflict(f"{current.label} replaced no earlier champion: there is nothing to "
                       f"roll back to.", code="no_previous_champion")
    previous = get_version(s, current.replaced_version_id)
    if previous.status != VersionStatus.RETIRED.value:
        raise Conflict(f"{previous.label} is {previous.status}, not retired.",
                       code="previous_not_retired")
    now = clock.now()
    _move(s, current, VersionStatus.CHAMPION, VersionStatus.RETIRED, "stale_champion",
          retired_at=now)
    _move(s, previous, VersionStatus.RETIRED, VersionStatus.CHAMPION, "stale_version",
          promoted_at=now, retired_at=None)
    record(s, by, "vision.model.rollback", OBJECT, previous.id,
           before={"champion": current.label}, after={"champion": previous.label})
    _champion_changed(s, kind.name)
    return previous


def _champion_changed(s: Session, kind_name: str) -> None:
    """Let the kind act on a new champion (optional beyond the contract, like
    check_params): the counterfeit kind rescores the listings it watches, so a promotion
    or a rollback shows in the queue without waiting for each listing to change."""
    hook = getattr(kind_named(kind_name), "champion_changed", None)
    if hook is not None:
        hook(s)


def _move(s: Session, version: ModelVersion, frm: VersionStatus, to: VersionStatus,
          stale_code: str, **values: Any) -> None:
    """A guarded UPDATE from the status the version was read in; the partial unique
    indexes refuse a second champion or shadow that a concurrent request slipped in."""
    if version.status != frm.value:
        raise Conflict(f"{version.label} is {version.status}, not {frm.value}.",
                       code=stale_code)
    try:
        with s.begin_nested():
            moved = s.execute(update(ModelVersion).where(
                ModelVersion.id == version.id, ModelVersion.status == frm.value)
                .values(status=to.value, **values)
                .execution_options(synchronize_session=False))
    except IntegrityError as exc:
        raise Conflict(f"{version.kind} already has a {to.value}; reload and try again.",
                       code=f"{to.value}_exists") from exc
    if moved.rowcount != 1:
        raise Conflict(f"{version.label} changed meanwhile; reload and try again.",
                       code=stale_code)
    s.refresh(version)


# --- what the console and the staff API read ----------------------------------------------

@dataclass(frozen=True)
class KindOverview:
    name: str
    subject: str
    default_params: dict[str, Any]
    champion: ModelVersion | None
    shadow: ModelVersion | None
    threshold: ThresholdSetting | None
    versions: list[ModelVersion]


@dataclass(frozen=True)
class Registry:
    kinds: list[KindOverview]
    runs: list[TrainingRun]

    @property
    def training(self) -> bool:
        return any(r.state in (RunState.PENDING, RunState.RUNNING) for r in self.runs)


def registry_overview(s: Session) -> Registry:
    kinds = [KindOverview(name=k.name, subject=k.subject, default_params=k.default_params(),
                          champion=champion(s, k.name), shadow=shadow(s, k.name),
                          threshold=latest_threshold(s, k.name), versions=versions(s, k.name))
             for k in sorted(load_kinds().values(), key=lambda k: k.name)]
    return Registry(kinds=kinds, runs=recent_runs(s))


@dataclass(frozen=True)
class VersionDetail:
    version: ModelVersion
    run: TrainingRun | None
    champion: ModelVersion | None
    shadow: ModelVersion | None
    threshold: float                       # the one flags are raised at for this version
    history: list[ThresholdSetting]
    edit_types: list[str]
    choice: evaluation.ThresholdChoice | None   # the chooser's answer, when asked
    can_rollback: bool
    confusion: dict[str, int]              # on the held-out items, at `threshold`


def version_detail(s: Session, version_id: Any, target_precision: Any = None,
                   edit_type: str | None = None) -> VersionDetail:
    version = get_version(s, version_id)
    current = champion(s, version.kind)
    threshold = threshold_of_version(s, version)
    choice = (preview_threshold(s, version.id, target_precision, edit_type or None)
              if target_precision not in (None, "") else None)
    return VersionDetail(
        version=version,
        run=s.get(TrainingRun, version.training_run_id) if version.training_run_id else None,
        champion=current, shadow=shadow(s, version.kind),
        threshold=threshold, history=threshold_history(s, version.kind),
        edit_types=sorted(set(version.held_out.get("edit_types") or [])),
        choice=choice,
        can_rollback=current is not None and current.replaced_version_id is not None,
        confusion=evaluation.confusion(version.held_out["scores"], version.held_out["labels"],
                                       threshold))
