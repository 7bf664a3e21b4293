"""What the staff API answers about runs, versions, thresholds and comparisons."""
from __future__ import annotations

from typing import Any

from vision.modelops.evaluation import ThresholdChoice
from vision.modelops.models import ModelVersion, ThresholdSetting, TrainingRun
from vision.modelops.scoring import Comparison
from vision.modelops.services import KindOverview


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def run_json(run: TrainingRun) -> dict[str, Any]:
    return {"id": run.id, "kind": run.kind, "state": run.state, "params": run.params,
            "done": run.done, "total": run.total, "message": run.message, "error": run.error,
            "requested_by": run.requested_by, "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at)}


def version_json(version: ModelVersion, *, full: bool = False) -> dict[str, Any]:
    out = {"id": version.id, "kind": version.kind, "number": version.number,
           "label": version.label, "status": version.status,
           "auc": version.metrics.get("auc"), "brier": version.metrics.get("brier"),
           "held_out_items": version.metrics.get("count"),
           "artifact_sha256": version.artifact_sha256,
           "training_run_id": version.training_run_id, "created_by": version.created_by,
           "created_at": _iso(version.created_at), "promoted_at": _iso(version.promoted_at),
           "retired_at": _iso(version.retired_at),
           "replaced_version_id": version.replaced_version_id}
    if full:
        out |= {"params": version.params, "data_snapshot": version.data_snapshot,
                "metrics": version.metrics, "curves": version.curves}
    return out


def threshold_json(setting: ThresholdSetting | None) -> dict[str, Any] | None:
    if setting is None:
        return None
    return {"id": setting.id, "kind": setting.kind, "edit_type": setting.edit_type,
            "version_id": setting.version_id, "threshold": setting.threshold,
            "target": setting.target, "precision": setting.precision,
            "recall": setting.recall, "expected_flags_per_day": setting.expected_flags_per_day,
            "set_by": setting.set_by, "set_at": _iso(setting.set_at)}


def kind_json(kind: KindOverview) -> dict[str, Any]:
    return {"name": kind.name, "subject": kind.subject, "default_params": kind.default_params,
            "champion": kind.champion.label if kind.champion else None,
            "shadow": kind.shadow.label if kind.shadow else None,
            "threshold": threshold_json(kind.threshold),
            "versions": [version_json(v) for v in kind.versions]}


def choice_json(choice: ThresholdChoice) -> dict[str, Any]:
    return choice.as_dict()


def comparison_json(c: Comparison) -> dict[str, Any]:
    return {"shadow": c.shadow.label, "champion": c.champion_label, "items": c.items,
            "agreement": c.agreement, "mean_delta": c.mean_delta,
            "mean_abs_delta": c.mean_abs_delta, "shadow_threshold": c.shadow_threshold,
            "champion_threshold": c.champion_threshold, "champion_flags": c.champion_flags,
            "shadow_flags": c.shadow_flags, "only_champion": c.only_champion,
            "only_shadow": c.only_shadow, "biggest_differences": c.biggest_differences,
            "delta_histogram": [{"range": r, "items": n} for r, n in c.delta_histogram]}
